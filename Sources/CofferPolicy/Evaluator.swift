import Foundation

/// What a request asks and who asks it, as the policy evaluator sees it.
public struct RequestContext: Sendable {
    /// `s3:GetObject`, `iam:CreateUser`, …
    public var action: String
    /// The resource ARN.
    public var resource: String
    /// The caller's ARN (`arn:aws:iam::ACCOUNT:root`, `…:user/PATH/NAME`), nil when anonymous.
    public var principalArn: String?
    /// The caller's account (a Deny naming the account binds every principal in it).
    public var principalAccount: String?
    /// Condition keys, lowercased, each with one or more values (absent keys are absent).
    public var keys: [String: [String]]

    public init(action: String, resource: String, principalArn: String?, principalAccount: String? = nil,
                keys: [String: [String]] = [:]) {
        self.action = action
        self.resource = resource
        self.principalArn = principalArn
        self.principalAccount = principalAccount
        var lowered: [String: [String]] = [:]
        for (key, values) in keys { lowered[key.lowercased(), default: []] += values }
        self.keys = lowered
    }

    init(action: String, resource: String, principalArn: String?, lowered: [String: [String]]) {
        self.action = action
        self.resource = resource
        self.principalArn = principalArn
        self.keys = lowered
    }
}

/// AWS's evaluation outcome.
public enum Decision: String, Sendable {
    case allowed = "allowed"
    case explicitDeny = "explicitDeny"
    case implicitDeny = "implicitDeny"
}

/// The outcome and the statements that produced it (for SimulatePrincipalPolicy and audit).
public struct Evaluation: Sendable {
    public var decision: Decision
    /// (policy name, statement index from 1, its Sid) of every matching statement.
    public var matched: [(policy: String, index: Int, sid: String?)]
    /// Where the deciding statement was: identity policies or the resource policy.
    public var deniedByResourcePolicy = false
    public var allowedByResourcePolicy = false
}

/// AWS's evaluation logic for one account: an explicit Deny anywhere wins; otherwise an Allow in an
/// identity policy or in the resource policy allows; otherwise the request is implicitly denied.
///
/// Built for the request path: actions and ARNs are matched over their UTF-8 bytes without
/// copying, and the condition keys are asked for (`keys`) only when a statement that matched
/// the action and resource has a condition or a policy variable — most requests never build them.
public enum PolicyEvaluator {
    public static func evaluate(identity: [(name: String, document: PolicyDocument)],
                                resource: (name: String, document: PolicyDocument)?,
                                context: RequestContext) -> Evaluation {
        evaluate(identity: identity, resource: resource, action: context.action, resourceArn: context.resource,
                 principalArn: context.principalArn, principalAccount: context.principalAccount) { context.keys }
    }

    /// `keys`: the request's condition keys, lowercased (called at most once).
    public static func evaluate(identity: [(name: String, document: PolicyDocument)],
                                resource: (name: String, document: PolicyDocument)?,
                                action: String, resourceArn: String, principalArn: String?, principalAccount: String?,
                                budget: WorkBudget = WorkBudget(), keys: () -> [String: [String]]) -> Evaluation {
        var evaluation = Evaluation(decision: .implicitDeny, matched: [])
        var allowed = false
        var cachedKeys: [String: [String]]?
        let foldedAction = ActionIndex.fold(action)
        func consider(_ name: String, _ document: PolicyDocument, isResource: Bool) {
            // Statements are borrowed from the array's storage, not copied out (a copy retains
            // every string and array a statement holds, on every request, for every statement).
            let candidates = document.actionIndex.candidates(for: foldedAction)
            document.statements.withUnsafeBufferPointer { statements in
                for index in candidates {
                    guard matches(statements[index], version: document.version, action: action, resourceArn: resourceArn,
                                  principalArn: principalArn, principalAccount: principalAccount, isResource: isResource,
                                  budget: budget, keys: {
                                      if let cachedKeys { return cachedKeys }
                                      let made = keys()
                                      cachedKeys = made
                                      return made
                                  })
                    else { continue }
                    evaluation.matched.append((name, index + 1, statements[index].sid))
                    switch statements[index].effect {
                    case .deny:
                        evaluation.decision = .explicitDeny
                        if isResource { evaluation.deniedByResourcePolicy = true }
                    case .allow:
                        allowed = true
                        if isResource { evaluation.allowedByResourcePolicy = true }
                    }
                }
            }
        }
        for (name, document) in identity { consider(name, document, isResource: false) }
        if let resource { consider(resource.name, resource.document, isResource: true) }
        if evaluation.decision != .explicitDeny, allowed { evaluation.decision = .allowed }
        return evaluation
    }

    /// Whether a statement applies to the request: action, resource, principal (resource
    /// policies) and every condition.
    public static func matches(_ statement: Statement, version: PolicyDocument.Version, context: RequestContext,
                               isResource: Bool) -> Bool {
        matches(statement, version: version, action: context.action, resourceArn: context.resource,
                principalArn: context.principalArn, principalAccount: context.principalAccount, isResource: isResource,
                budget: WorkBudget(), keys: { context.keys })
    }

    /// A statement whose matching runs out of `budget` fails closed: a Deny applies, an Allow does
    /// not (wildcard matching is O(pattern × text) at worst; no request may buy unbounded work).
    static func matches(_ statement: Statement, version: PolicyDocument.Version, action: String, resourceArn: String,
                        principalArn: String?, principalAccount: String?, isResource: Bool, budget: WorkBudget,
                        keys: () -> [String: [String]]) -> Bool {
        if budget.exhausted { return statement.effect == .deny }
        let variables = version == .v2012
        var actionHit = false
        statement.actions.values.withUnsafeBufferPointer { patterns in
            for index in patterns.indices where Wildcard.matches(patterns[index], action, caseInsensitive: true, budget: budget) {
                actionHit = true
                break
            }
        }
        if budget.exhausted { return statement.effect == .deny }
        guard actionHit != statement.actions.negated else { return false }
        let resourceHit = statement.resources.values.contains { pattern in
            if variables, pattern.utf8.contains(UInt8(ascii: "$")) {
                guard let substituted = substitute(pattern, keys()) else { return false }
                return substituted.matches(resourceArn, caseInsensitive: false, budget: budget)
            }
            return Wildcard.matches(pattern, resourceArn, caseInsensitive: false, budget: budget)
        }
        if budget.exhausted { return statement.effect == .deny }
        guard resourceHit != statement.resources.negated else { return false }
        if isResource, let principals = statement.principals {
            let named = statement.principalsNegated
                ? exempted(by: principals, principalArn: principalArn, principalAccount: principalAccount)
                : names(principals, effect: statement.effect, principalArn: principalArn, principalAccount: principalAccount)
            guard named != statement.principalsNegated else { return false }
        }
        if statement.conditions.isEmpty { return true }
        let values = keys()
        let context = RequestContext(action: action, resource: resourceArn, principalArn: principalArn, lowered: values)
        let holdsAll = statement.conditions.allSatisfy { holds($0, context: context, variables: variables, budget: budget) }
        return budget.exhausted ? statement.effect == .deny : holdsAll
    }

    /// Whether a `Principal` element names the caller. A named user or root matches itself. The
    /// account (its root ARN) stands for every principal of the account in a Deny; in an Allow it
    /// grants to the root only — the account's users still need an identity policy (AWS's
    /// delegation rule).
    static func names(_ principals: Statement.Principals, effect: Statement.Effect, principalArn: String?,
                      principalAccount: String?) -> Bool {
        switch principals {
        case .everyone: return true
        case .other: return false
        case .aws(let arns):
            if let principalArn, arns.contains(principalArn) { return true }
            guard effect == .deny, let principalAccount else { return false }
            return arns.contains(accountArn(principalAccount))
        }
    }

    /// Whether a `NotPrincipal` element (a Deny: an Allow is refused when parsed) exempts the caller.
    /// AWS evaluates the caller and the account that contains it: only a principal named exactly
    /// is exempt, and an IAM user only when its account is named too — `[user/bob]` alone denies
    /// Bob along with his account, and the account's ARN exempts the account principal (the root),
    /// not its users (IAM User Guide, "NotPrincipal"). Anonymous callers are exempt only by `*`.
    static func exempted(by principals: Statement.Principals, principalArn: String?, principalAccount: String?) -> Bool {
        switch principals {
        case .everyone: return true
        case .other: return false
        case .aws(let arns):
            guard let principalArn, arns.contains(principalArn) else { return false }
            if principalArn.hasSuffix(":root") { return true }  // the account principal itself
            guard let principalAccount else { return false }
            return arns.contains(accountArn(principalAccount))
        }
    }

    static func accountArn(_ account: String) -> String { "arn:aws:iam::\(account):root" }

    /// `${aws:username}`, `${*}`, `${?}`, `${$}` replaced; nil when a variable's key is absent
    /// (the pattern then matches nothing, as on AWS). What a variable puts in is literal — its own
    /// `*` and `?`, and those of `${*}` and `${?}`, match only themselves — and says so in the
    /// pattern's type, not with marker bytes a document could hold too.
    static func substitute(_ text: String, _ keys: [String: [String]]) -> SubstitutedPattern? {
        guard text.contains("${") else { return SubstitutedPattern(text) }
        var output = SubstitutedPattern()
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output.append(rest[..<start.lowerBound], literal: false)
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                output.append(rest[start.lowerBound...], literal: false)
                return output
            }
            let name = rest[start.upperBound..<end]
            switch name {
            case "*", "?", "$": output.append(name, literal: true)
            default:
                guard let value = keys[name.lowercased()]?.first else { return nil }
                output.append(value[...], literal: true)
            }
            rest = rest[rest.index(after: end)...]
        }
        output.append(rest, literal: false)
        return output
    }

    /// One condition: values of a key OR'ed, negated operators true when no value matches,
    /// `…IfExists` true for an absent key, the set qualifiers over every value of the key.
    static func holds(_ condition: Condition, context: RequestContext, variables: Bool,
                      budget: WorkBudget = WorkBudget()) -> Bool {
        let present = context.keys[condition.key] ?? []
        if condition.base == .null {
            // Any of the listed values: ["true", "false"] holds whether the key is there or not.
            return condition.values.contains { ($0.lowercased() == "true") == present.isEmpty }
        }
        let substituted = variables && condition.base.takesVariables
            ? condition.values.compactMap { substitute($0, context.keys) } : nil
        func positive(_ value: String) -> Bool {
            if let substituted { return substituted.contains { compare(condition.base, value, $0, budget: budget) } }
            return condition.values.contains { compare(condition.base, value, $0, budget: budget) }
        }
        switch condition.qualifier {
        case .forAnyValue?:
            guard !present.isEmpty else { return false }
            return present.contains { positive($0) != condition.base.isNegated }
        case .forAllValues?:
            return present.allSatisfy { positive($0) != condition.base.isNegated }
        case nil:
            if present.isEmpty { return condition.ifExists || condition.base.isNegated }
            return condition.base.isNegated ? !present.contains(where: positive) : present.contains(where: positive)
        }
    }

    /// `compare` with a value whose policy variables were replaced: the `…Like` operators match
    /// it as a pattern (what a variable put in is literal), the others compare its text.
    static func compare(_ base: Condition.Base, _ value: String, _ policy: SubstitutedPattern,
                        budget: WorkBudget = WorkBudget()) -> Bool {
        switch base {
        case .stringLike, .stringNotLike, .arnLike, .arnNotLike:
            return policy.matches(value, caseInsensitive: false, budget: budget)
        default:
            return compare(base, value, policy.text, budget: budget)
        }
    }

    /// The operator's comparison of a request value with one policy value (for negated
    /// operators, their positive form: the caller negates).
    static func compare(_ base: Condition.Base, _ value: String, _ policy: String,
                        budget: WorkBudget = WorkBudget()) -> Bool {
        switch base {
        case .stringEquals, .stringNotEquals: return value == policy
        case .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase: return value.lowercased() == policy.lowercased()
        case .stringLike, .stringNotLike, .arnLike, .arnNotLike:
            return Wildcard.matches(policy, value, caseInsensitive: false, budget: budget)
        case .arnEquals, .arnNotEquals: return value == policy
        case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
             .numericGreaterThanEquals:
            guard let a = Double(value), let b = Double(policy) else { return false }
            return ordered(base, a, b)
        case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard let a = PolicyDate.parse(value), let b = PolicyDate.parse(policy) else { return false }
            return ordered(base, a, b)
        case .bool: return value.lowercased() == policy.lowercased()
        case .binaryEquals: return value == policy
        case .ipAddress, .notIpAddress: return CIDR(policy)?.contains(value) ?? false
        case .null: return false
        }
    }

    static func ordered(_ base: Condition.Base, _ a: Double, _ b: Double) -> Bool {
        switch base {
        case .numericEquals, .numericNotEquals, .dateEquals, .dateNotEquals: a == b
        case .numericLessThan, .dateLessThan: a < b
        case .numericLessThanEquals, .dateLessThanEquals: a <= b
        case .numericGreaterThan, .dateGreaterThan: a > b
        case .numericGreaterThanEquals, .dateGreaterThanEquals: a >= b
        default: false
        }
    }
}

/// A pattern after its policy variables were replaced: its bytes, and which of them a variable put
/// in — those are literal: a `*` or `?` there (from `${*}`, `${?}` or a value) matches only itself.
public struct SubstitutedPattern: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []
    /// Per byte, whether it is literal; nil while none is.
    private var literal: [Bool]?

    init() {}

    init(_ text: String) { bytes = Array(text.utf8) }

    mutating func append(_ part: Substring, literal isLiteral: Bool) {
        let added = Array(part.utf8)
        if isLiteral, literal == nil { literal = Array(repeating: false, count: bytes.count) }
        bytes += added
        literal?.append(contentsOf: repeatElement(isLiteral, count: added.count))
    }

    /// The text, for the operators that compare rather than match.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public func matches(_ text: String, caseInsensitive: Bool, budget: WorkBudget) -> Bool {
        var text = text
        return bytes.withUnsafeBufferPointer { p in
            text.withUTF8 { t in
                guard let literal else { return Wildcard.matches(p, literal: nil, t, caseInsensitive: caseInsensitive, budget: budget) }
                return literal.withUnsafeBufferPointer { mask in
                    Wildcard.matches(p, literal: mask, t, caseInsensitive: caseInsensitive, budget: budget)
                }
            }
        }
    }
}

/// `*` (any run, even empty) and `?` (one character) over the UTF-8 bytes of both strings, without
/// copying them; iterative, no backtracking blow-up. Every other byte of a pattern is literal (and
/// so are the bytes a `SubstitutedPattern` marks). Case-insensitive matching folds ASCII letters
/// (action names are ASCII).
public enum Wildcard {
    public static func matches(_ pattern: String, _ text: String, caseInsensitive: Bool) -> Bool {
        matches(pattern, text, caseInsensitive: caseInsensitive, budget: WorkBudget(steps: .max))
    }

    /// As above, spending `budget`; false once it is exhausted (the caller checks `exhausted`).
    public static func matches(_ pattern: String, _ text: String, caseInsensitive: Bool, budget: WorkBudget) -> Bool {
        // Borrowed bytes where the strings have them (native ones do), without copying the strings.
        if let answer = pattern.utf8.withContiguousStorageIfAvailable({ p in
            text.utf8.withContiguousStorageIfAvailable { t in matches(p, literal: nil, t, caseInsensitive: caseInsensitive, budget: budget) }
        }), let answer {
            return answer
        }
        var pattern = pattern
        var text = text
        return pattern.withUTF8 { p in text.withUTF8 { t in matches(p, literal: nil, t, caseInsensitive: caseInsensitive, budget: budget) } }
    }

    /// `literal`: per pattern byte, whether it stands only for itself (nil: none does).
    static func matches(_ p: UnsafeBufferPointer<UInt8>, literal: UnsafeBufferPointer<Bool>?, _ t: UnsafeBufferPointer<UInt8>,
                        caseInsensitive: Bool, budget: WorkBudget) -> Bool {
        @inline(__always) func fold(_ byte: UInt8) -> UInt8 {
            caseInsensitive && byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
        }
        /// Whether pattern byte `index` is the wildcard `byte`.
        @inline(__always) func wild(_ index: Int, _ byte: UInt8) -> Bool {
            p[index] == byte && !(literal?[index] ?? false)
        }
        /// The index after the character that starts at `index`.
        @inline(__always) func nextCharacter(_ index: Int) -> Int {
            var next = index + 1
            while next < t.count, t[next] & 0xC0 == 0x80 { next += 1 }
            return next
        }
        var (pi, ti) = (0, 0)
        var star = -1
        var mark = 0
        var steps = 0
        defer { budget.spend(steps) }
        while ti < t.count {
            steps += 1
            if steps > budget.remaining { return false }
            if pi < p.count, wild(pi, UInt8(ascii: "*")) {
                star = pi
                mark = ti
                pi += 1
            } else if pi < p.count, wild(pi, UInt8(ascii: "?")) {
                pi += 1
                ti = nextCharacter(ti)
            } else if pi < p.count, fold(p[pi]) == fold(t[ti]) {
                pi += 1
                ti += 1
            } else if star >= 0 {
                pi = star + 1
                mark = nextCharacter(mark)
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, wild(pi, UInt8(ascii: "*")) { pi += 1 }
        return pi == p.count
    }
}

/// Work one policy evaluation may do (wildcard steps): enough for any real policy many times over,
/// and a bound on what a crafted pattern and ARN can cost. Once spent, `exhausted` is set and the
/// evaluator fails closed.
public final class WorkBudget {
    public static let perEvaluation = 2_000_000
    public private(set) var remaining: Int
    public private(set) var exhausted = false

    public init(steps: Int = WorkBudget.perEvaluation) { remaining = steps }

    func spend(_ steps: Int) {
        if steps > remaining {
            remaining = 0
            exhausted = true
        } else {
            remaining -= steps
        }
    }
}
