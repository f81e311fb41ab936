import CofferPolicy
import Testing

/// The policy language and AWS's evaluation logic, on documents as AWS publishes them.
@Suite("Policies: parsing and evaluation")
struct PolicyTests {
    static let account = "123456789012"
    static let alice = "arn:aws:iam::123456789012:user/alice"

    static func identity(_ json: String) throws -> PolicyDocument {
        try PolicyDocument(json: Array(json.utf8), kind: .identity)
    }

    static func context(_ action: String, _ resource: String, principal: String? = alice,
                        _ keys: [String: [String]] = [:]) -> RequestContext {
        RequestContext(action: action, resource: resource, principalArn: principal, keys: keys)
    }

    static func decide(_ documents: [PolicyDocument], _ context: RequestContext, bucket: PolicyDocument? = nil) -> Decision {
        PolicyEvaluator.evaluate(identity: documents.enumerated().map { ("p\($0.offset)", $0.element) },
                                 resource: bucket.map { ("bucket", $0) }, context: context).decision
    }

    /// A single statement with one condition, evaluated against `keys`.
    static func condition(_ op: String, _ key: String, _ values: String, _ keys: [String: [String]]) throws -> Bool {
        let document = try identity("""
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"\(op)": {"\(key)": \(values)}}}}
            """)
        return decide([document], context("s3:GetObject", "arn:aws:s3:::b/k", keys)) == .allowed
    }

    @Test("Wildcards: * and ? in actions (any case) and ARNs (exact case)")
    func wildcards() {
        #expect(Wildcard.matches("s3:Get*", "s3:getobject", caseInsensitive: true))
        #expect(Wildcard.matches("s3:*Object?ersion", "s3:GetObjectVersion", caseInsensitive: true))
        #expect(!Wildcard.matches("arn:aws:s3:::B/*", "arn:aws:s3:::b/k", caseInsensitive: false))
        #expect(Wildcard.matches("arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/x", caseInsensitive: false))
        #expect(Wildcard.matches("*", "", caseInsensitive: false))
        #expect(!Wildcard.matches("a?", "a", caseInsensitive: false))
        // No backtracking blow-up on hostile patterns.
        #expect(!Wildcard.matches(String(repeating: "*a", count: 200) + "b", String(repeating: "a", count: 5000),
                                  caseInsensitive: false))
    }

    @Test("Explicit deny beats allow; no allow is an implicit deny; Action/NotAction, Resource/NotResource")
    func evaluation() throws {
        let allow = try Self.identity("""
            {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
             "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}]}
            """)
        let deny = try Self.identity("""
            {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}}
            """)
        #expect(Self.decide([allow], Self.context("s3:GetObject", "arn:aws:s3:::b/k")) == .allowed)
        #expect(Self.decide([allow], Self.context("s3:PutObject", "arn:aws:s3:::b/k")) == .implicitDeny)
        #expect(Self.decide([allow], Self.context("s3:GetObject", "arn:aws:s3:::other/k")) == .implicitDeny)
        #expect(Self.decide([allow, deny], Self.context("s3:ListBucket", "arn:aws:s3:::b")) == .explicitDeny)
        #expect(Self.decide([allow, deny], Self.context("s3:GetObject", "arn:aws:s3:::b/k")) == .allowed)
        let notResource = try Self.identity("""
            {"Statement": {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}}
            """)
        #expect(Self.decide([notResource], Self.context("s3:GetObject", "arn:aws:s3:::b/k")) == .allowed)
        #expect(Self.decide([notResource], Self.context("s3:GetObject", "arn:aws:s3:::secret/k")) == .implicitDeny)
        let evaluation = PolicyEvaluator.evaluate(identity: [("read", allow), ("deny", deny)], resource: nil,
                                                  context: Self.context("s3:ListBucket", "arn:aws:s3:::b"))
        #expect(evaluation.matched.map(\.policy) == ["read", "deny"] && evaluation.matched.first?.sid == "Read")
    }

    @Test("Bucket policies: Principal *, an account, a user; NotPrincipal; a Deny there binds too")
    func resourcePolicies() throws {
        let bucket = try PolicyDocument(json: Array("""
            {"Version": "2012-10-17", "Statement": [
              {"Sid": "", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"},
              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"}, "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::pub/*"},
              {"Effect": "Deny", "NotPrincipal": {"AWS": ["123456789012"]}, "Action": "s3:DeleteObject",
               "Resource": "arn:aws:s3:::pub/*"}]}
            """.utf8), kind: .resource)
        #expect(Self.decide([], Self.context("s3:GetObject", "arn:aws:s3:::pub/k", principal: nil), bucket: bucket) == .allowed)
        #expect(Self.decide([], Self.context("s3:PutObject", "arn:aws:s3:::pub/k", principal: nil), bucket: bucket) == .implicitDeny)
        #expect(Self.decide([], Self.context("s3:PutObject", "arn:aws:s3:::pub/k"), bucket: bucket) == .allowed)
        #expect(Self.decide([], Self.context("s3:DeleteObject", "arn:aws:s3:::pub/k"), bucket: bucket) == .explicitDeny)
        #expect(Self.decide([], Self.context("s3:DeleteObject", "arn:aws:s3:::pub/k", principal: "arn:aws:iam::123456789012:root"),
                            bucket: bucket) == .implicitDeny)
    }

    @Test("Statement positions: 1-based line and column of each statement's braces, strings and escapes skipped")
    func statementPositions() {
        let text = """
            {"Version": "2012-10-17", "Id": "{[not a brace]}\\"",
             "Statement": [
              {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "s3:Delete*",
               "Resource": "*"}
             ]}
            """
        let spans = PolicyDocument.statementPositions(text)
        #expect(spans.count == 2)
        #expect(spans.first.map { [$0.start.line, $0.start.column, $0.end.line, $0.end.column] } == [3, 3, 3, 56])
        #expect(spans.last.map { [$0.start.line, $0.start.column, $0.end.line, $0.end.column] } == [4, 3, 5, 19])
        let single = PolicyDocument.statementPositions(#"{"Statement": {"Effect": "Allow"}}"#)
        #expect(single.map { [$0.start.column, $0.end.column] } == [[15, 33]])
        // A browser's form sends CRLF line ends (one Character each in Swift): the same lines.
        let crlf = PolicyDocument.statementPositions(text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(crlf.map { [$0.start.line, $0.start.column, $0.end.line, $0.end.column] }
            == spans.map { [$0.start.line, $0.start.column, $0.end.line, $0.end.column] })
    }

    @Test("A costly pattern fails closed: a Deny applies, an Allow does not; Null with both values holds either way")
    func budgetAndNull() throws {
        func document(_ effect: String) throws -> PolicyDocument {
            try PolicyDocument(json: Array("""
                {"Version":"2012-10-17","Statement":{"Effect":"\(effect)","Action":"*","Resource":"*\(String(repeating: "a", count: 1900))b"}}
                """.utf8), kind: .identity)
        }
        let context = RequestContext(action: "s3:GetObject", resource: String(repeating: "a", count: 4000), principalArn: nil)
        let allowAll = try PolicyDocument(json: Array(#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#.utf8),
                                          kind: .identity)
        #expect(Self.decide([try document("Allow")], context) == .implicitDeny)
        #expect(Self.decide([allowAll, try document("Deny")], context) == .explicitDeny)
        let either = try PolicyDocument(json: Array(#"""
            {"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
             "Condition":{"Null":{"aws:MultiFactorAuthAge":["true","false"]}}}}
            """#.utf8), kind: .identity)
        #expect(Self.decide([either], Self.context("s3:GetObject", "arn:aws:s3:::b/k")) == .allowed)
        #expect(Self.decide([either], Self.context("s3:GetObject", "arn:aws:s3:::b/k", ["aws:MultiFactorAuthAge": ["5"]])) == .allowed)
    }

    @Test("The account as a bucket-policy principal: its Deny binds every user, its Allow grants only the root")
    func accountPrincipal() throws {
        func bucket(_ effect: String) throws -> PolicyDocument {
            try PolicyDocument(json: Array("""
                {"Version":"2012-10-17","Statement":[{"Effect":"\(effect)","Principal":{"AWS":"123456789012"},
                 "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}
                """.utf8), kind: .resource)
        }
        let user = RequestContext(action: "s3:GetObject", resource: "arn:aws:s3:::b/k",
                                  principalArn: "arn:aws:iam::123456789012:user/alice", principalAccount: "123456789012")
        let root = RequestContext(action: "s3:GetObject", resource: "arn:aws:s3:::b/k",
                                  principalArn: "arn:aws:iam::123456789012:root", principalAccount: "123456789012")
        let allow = try bucket("Allow")
        let deny = try bucket("Deny")
        #expect(Self.decide([], user, bucket: allow) == .implicitDeny)
        #expect(Self.decide([], root, bucket: allow) == .allowed)
        #expect(Self.decide([], user, bucket: deny) == .explicitDeny)
    }

    @Test("'?' is one character, however many UTF-8 bytes it takes; '*' restarts on character boundaries")
    func wildcardCharacters() {
        #expect(Wildcard.matches("arn:aws:s3:::b/?", "arn:aws:s3:::b/é", caseInsensitive: false))
        #expect(Wildcard.matches("arn:aws:s3:::b/??", "arn:aws:s3:::b/日本", caseInsensitive: false))
        #expect(!Wildcard.matches("arn:aws:s3:::b/?", "arn:aws:s3:::b/日本", caseInsensitive: false))
        #expect(Wildcard.matches("*?本", "日本", caseInsensitive: false))
        #expect(Wildcard.matches("S3:GET*", "s3:getObject", caseInsensitive: true))
        #expect(!Wildcard.matches("s3:GET*", "s3:getObject", caseInsensitive: false))
    }

    @Test("Policy variables in 2012-10-17 only; an absent key matches nothing")
    func variables() throws {
        let home = """
            {"Version": "VERSION", "Statement": [
              {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::home",
               "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "home/${aws:username}"]}}},
              {"Effect": "Allow", "Action": "s3:*Object", "Resource": "arn:aws:s3:::home/home/${aws:username}/*"}]}
            """
        let v2012 = try Self.identity(home.replacingOccurrences(of: "VERSION", with: "2012-10-17"))
        let keys = ["aws:username": ["alice"]]
        #expect(Self.decide([v2012], Self.context("s3:PutObject", "arn:aws:s3:::home/home/alice/a.txt", keys)) == .allowed)
        #expect(Self.decide([v2012], Self.context("s3:PutObject", "arn:aws:s3:::home/home/bob/a.txt", keys)) == .implicitDeny)
        #expect(Self.decide([v2012], Self.context("s3:ListBucket", "arn:aws:s3:::home",
                                                  ["aws:username": ["alice"], "s3:prefix": ["home/alice/"]])) == .allowed)
        #expect(Self.decide([v2012], Self.context("s3:ListBucket", "arn:aws:s3:::home",
                                                  ["aws:username": ["alice"], "s3:prefix": ["home/"]])) == .implicitDeny)
        #expect(Self.decide([v2012], Self.context("s3:PutObject", "arn:aws:s3:::home/home/alice/a.txt")) == .implicitDeny)
        let v2008 = try Self.identity(home.replacingOccurrences(of: "VERSION", with: "2008-10-17"))
        #expect(Self.decide([v2008], Self.context("s3:PutObject", "arn:aws:s3:::home/home/alice/a.txt", keys)) == .implicitDeny)
        #expect(Self.decide([v2008], Self.context("s3:PutObject", "arn:aws:s3:::home/home/${aws:username}/a", keys)) == .allowed)
        // ${*} is a literal '*', not a wildcard.
        let literal = try Self.identity("""
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/${*}"}}
            """)
        #expect(Self.decide([literal], Self.context("s3:GetObject", "arn:aws:s3:::b/*")) == .allowed)
        #expect(Self.decide([literal], Self.context("s3:GetObject", "arn:aws:s3:::b/x")) == .implicitDeny)
        // A value put in by a variable is literal: a user named "a*" is no wildcard. And the
        // literal-ness is carried by the pattern's type, not by marker bytes: a document holding
        // U+0001 (as \u0001) matches that character only, never a '*'.
        let own = try Self.identity(home.replacingOccurrences(of: "VERSION", with: "2012-10-17"))
        #expect(Self.decide([own], Self.context("s3:PutObject", "arn:aws:s3:::home/home/a*/x", ["aws:username": ["a*"]])) == .allowed)
        #expect(Self.decide([own], Self.context("s3:PutObject", "arn:aws:s3:::home/home/ab/x", ["aws:username": ["a*"]])) == .implicitDeny)
        let marker = try Self.identity(#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/\u0001${?}"}}"#)
        #expect(Self.decide([marker], Self.context("s3:GetObject", "arn:aws:s3:::b/*?")) == .implicitDeny)
        #expect(Self.decide([marker], Self.context("s3:GetObject", "arn:aws:s3:::b/\u{1}?")) == .allowed)
        #expect(Self.decide([marker], Self.context("s3:GetObject", "arn:aws:s3:::b/\u{1}x")) == .implicitDeny)
        let like = try Self.identity(#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"StringLike": {"s3:prefix": "${aws:username}/*"}}}}"#)
        #expect(Self.decide([like], Self.context("s3:ListBucket", "arn:aws:s3:::b", ["aws:username": ["a?"], "s3:prefix": ["a?/x"]])) == .allowed)
        #expect(Self.decide([like], Self.context("s3:ListBucket", "arn:aws:s3:::b", ["aws:username": ["a?"], "s3:prefix": ["ab/x"]])) == .implicitDeny)
    }

    @Test("String, numeric, date, Bool, binary, IP, ARN and Null operators with their negated and IfExists forms")
    func operators() throws {
        let k = "aws:username"
        #expect(try Self.condition("StringEquals", k, "\"alice\"", [k: ["alice"]]))
        #expect(try !Self.condition("StringEquals", k, "\"alice\"", [k: ["Alice"]]))
        #expect(try Self.condition("StringEqualsIgnoreCase", k, "\"alice\"", [k: ["ALICE"]]))
        #expect(try Self.condition("StringNotEquals", k, "[\"bob\", \"eve\"]", [k: ["alice"]]))
        #expect(try !Self.condition("StringNotEquals", k, "[\"bob\", \"alice\"]", [k: ["alice"]]))
        #expect(try Self.condition("StringNotEquals", k, "\"bob\"", [:]))  // negated: true for an absent key
        #expect(try !Self.condition("StringEquals", k, "\"bob\"", [:]))
        #expect(try Self.condition("StringEqualsIfExists", k, "\"bob\"", [:]))
        #expect(try Self.condition("StringNotEqualsIgnoreCase", k, "\"BOB\"", [k: ["alice"]]))
        #expect(try Self.condition("StringLike", k, "\"al*\"", [k: ["alice"]]))
        #expect(try Self.condition("StringNotLike", k, "\"b?b\"", [k: ["alice"]]))
        let n = "s3:max-keys"
        #expect(try Self.condition("NumericLessThanEquals", n, "10", [n: ["10"]]))
        #expect(try Self.condition("NumericLessThan", n, "\"10\"", [n: ["9"]]))
        #expect(try !Self.condition("NumericGreaterThan", n, "10", [n: ["10"]]))
        #expect(try Self.condition("NumericGreaterThanEquals", n, "10", [n: ["10.0"]]))
        #expect(try Self.condition("NumericEquals", n, "10", [n: ["10"]]))
        #expect(try Self.condition("NumericNotEquals", n, "10", [n: ["11"]]))
        #expect(try !Self.condition("NumericEquals", n, "10", [n: ["not a number"]]))
        let t = "aws:currenttime"
        #expect(try Self.condition("DateLessThan", t, "\"2030-01-01T00:00:00Z\"", [t: ["2026-11-29T03:00:00Z"]]))
        #expect(try Self.condition("DateGreaterThan", t, "\"2020-01-01T00:00:00Z\"", [t: ["1795920000"]]))
        #expect(try Self.condition("DateEquals", t, "1795920000", [t: ["2026-11-29T02:40:00Z"]]))
        #expect(try Self.condition("DateNotEquals", t, "1795920000", [t: ["2026-11-29T02:40:01Z"]]))
        #expect(try Self.condition("DateLessThanEquals", t, "1795920000", [t: ["1795920000"]]))
        #expect(try Self.condition("DateGreaterThanEquals", t, "1795920000", [t: ["1795920001"]]))
        let mfa = "aws:MultiFactorAuthPresent"
        #expect(try Self.condition("Bool", mfa, "true", [mfa: ["true"]]))
        #expect(try !Self.condition("Bool", mfa, "\"true\"", [:]))
        #expect(try Self.condition("BoolIfExists", mfa, "false", [:]))  // long-term keys: the key is absent
        #expect(try !Self.condition("BoolIfExists", mfa, "false", [mfa: ["true"]]))
        #expect(try Self.condition("BinaryEquals", "aws:key", "\"QmluYXJ5\"", ["aws:key": ["QmluYXJ5"]]))
        let ip = "aws:SourceIp"
        #expect(try Self.condition("IpAddress", ip, "[\"10.0.0.0/8\", \"192.0.2.1\"]", [ip: ["10.1.2.3"]]))
        #expect(try !Self.condition("IpAddress", ip, "\"10.0.0.0/8\"", [ip: ["11.0.0.1"]]))
        #expect(try Self.condition("NotIpAddress", ip, "\"10.0.0.0/8\"", [ip: ["11.0.0.1"]]))
        #expect(try Self.condition("IpAddress", ip, "\"2001:db8::/32\"", [ip: ["2001:db8::1"]]))
        #expect(try !Self.condition("IpAddress", ip, "\"2001:db8::/32\"", [ip: ["10.0.0.1"]]))
        let arn = "aws:PrincipalArn"
        #expect(try Self.condition("ArnEquals", arn, "\"\(Self.alice)\"", [arn: [Self.alice]]))
        #expect(try Self.condition("ArnLike", arn, "\"arn:aws:iam::*:user/*\"", [arn: [Self.alice]]))
        #expect(try Self.condition("ArnNotEquals", arn, "\"arn:aws:iam::1:root\"", [arn: [Self.alice]]))
        #expect(try !Self.condition("ArnNotLike", arn, "\"arn:aws:iam::*:user/*\"", [arn: [Self.alice]]))
        #expect(try Self.condition("ArnLikeIfExists", arn, "\"arn:aws:iam::*:user/*\"", [:]))
        let age = "aws:MultiFactorAuthAge"
        #expect(try Self.condition("Null", age, "true", [:]))
        #expect(try !Self.condition("Null", age, "true", [age: ["30"]]))
        #expect(try Self.condition("Null", age, "false", [age: ["30"]]))
        #expect(try Self.condition("NumericLessThanIfExists", age, "300", [:]))
        #expect(try !Self.condition("NumericLessThanIfExists", age, "300", [age: ["301"]]))
        // Condition keys compare in any case.
        #expect(try Self.condition("StringEquals", "AWS:UserName", "\"alice\"", ["aws:username": ["alice"]]))
    }

    @Test("ForAnyValue and ForAllValues over multi-valued keys")
    func setOperators() throws {
        let key = "aws:TagKeys"
        #expect(try Self.condition("ForAnyValue:StringEquals", key, "[\"a\", \"b\"]", [key: ["x", "b"]]))
        #expect(try !Self.condition("ForAnyValue:StringEquals", key, "[\"a\"]", [key: ["x", "y"]]))
        #expect(try !Self.condition("ForAnyValue:StringEquals", key, "[\"a\"]", [:]))
        #expect(try Self.condition("ForAllValues:StringEquals", key, "[\"a\", \"b\"]", [key: ["a", "b"]]))
        #expect(try !Self.condition("ForAllValues:StringEquals", key, "[\"a\"]", [key: ["a", "b"]]))
        #expect(try Self.condition("ForAllValues:StringEquals", key, "[\"a\"]", [:]))  // vacuously true
        #expect(try Self.condition("ForAllValues:StringNotEquals", key, "[\"secret\"]", [key: ["a", "b"]]))
        #expect(try Self.condition("ForAnyValue:StringLike", key, "[\"a*\"]", [key: ["x", "ab"]]))
    }

    @Test("AWS's BlockMostAccessUnlessSignedInWithMFA: own MFA device management only, until signed in with MFA")
    func blockUnlessMFA() throws {
        // From the IAM User Guide ("Allows MFA-authenticated IAM users to manage their own MFA device").
        let policy = try Self.identity("""
            {"Version": "2012-10-17", "Statement": [
              {"Sid": "AllowViewAccountInfo", "Effect": "Allow", "Action": "iam:ListVirtualMFADevices", "Resource": "*"},
              {"Sid": "AllowManageOwnVirtualMFADevice", "Effect": "Allow",
               "Action": ["iam:CreateVirtualMFADevice"], "Resource": "arn:aws:iam::*:mfa/*"},
              {"Sid": "AllowManageOwnUserMFA", "Effect": "Allow",
               "Action": ["iam:DeactivateMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                          "iam:ResyncMFADevice"], "Resource": "arn:aws:iam::*:user/${aws:username}"},
              {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
               "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                             "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
               "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}
            """)
        let s3Admin = try Self.identity("""
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}
            """)
        let user = ["aws:username": ["alice"]]
        var withMFA = user
        withMFA["aws:MultiFactorAuthPresent"] = ["true"]
        withMFA["aws:MultiFactorAuthAge"] = ["12"]
        let enable = Self.context("iam:EnableMFADevice", Self.alice, user)
        #expect(Self.decide([policy, s3Admin], enable) == .allowed)
        #expect(Self.decide([policy, s3Admin], Self.context("iam:EnableMFADevice", "arn:aws:iam::123456789012:user/bob", user))
            == .implicitDeny)
        #expect(Self.decide([policy, s3Admin], Self.context("s3:GetObject", "arn:aws:s3:::b/k", user)) == .explicitDeny)
        #expect(Self.decide([policy, s3Admin], Self.context("s3:GetObject", "arn:aws:s3:::b/k", withMFA)) == .allowed)
        #expect(Self.decide([policy, s3Admin], Self.context("iam:DeactivateMFADevice", Self.alice, user)) == .explicitDeny)
        #expect(Self.decide([policy, s3Admin], Self.context("iam:DeactivateMFADevice", Self.alice, withMFA)) == .allowed)
    }

    @Test("Malformed documents are refused with the element named", arguments: [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        ("{\"Version\": \"2012-10-17\"}", "no Statement"),
        ("{\"Version\": \"2099-01-01\", \"Statement\": []}", "Version"),
        ("{\"Statement\": {\"Effect\": \"Permit\", \"Action\": \"s3:*\", \"Resource\": \"*\"}}", "Effect"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Resource\": \"*\"}}", "neither Action nor NotAction"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"NotAction\": \"s3:Get*\", \"Resource\": \"*\"}}",
         "both Action and NotAction"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"GetObject\", \"Resource\": \"*\"}}", "service:action"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\"}}", "neither Resource nor NotResource"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Principal\": \"*\"}}",
         "may not name a Principal"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Extra\": 1}}", "unknown element"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Condition\": {\"StringFoo\": {\"k\": \"v\"}}}}",
         "unknown condition operator"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Condition\": {\"NumericLessThan\": {\"k\": \"ten\"}}}}",
         "needs numbers"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Condition\": {\"IpAddress\": {\"k\": \"300.1.1.1\"}}}}",
         "IP address"),
        ("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\", \"Condition\": {\"NullIfExists\": {\"k\": \"true\"}}}}",
         "IfExists"),
        ("{\"Statement\": [{\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}, {\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}",
         "used twice"),
    ])
    func malformed(_ json: String, _ expected: String) {
        do {
            _ = try Self.identity(json)
            Issue.record("accepted: \(json)")
        } catch let error as PolicyError {
            #expect(error.message.contains(expected), "\(error.message)")
        } catch {
            Issue.record("not a PolicyError: \(error)")
        }
    }

    @Test("Bucket policies need a Principal; sizes are bounded")
    func resourceRules() {
        #expect(throws: PolicyError.self) {
            try PolicyDocument(json: Array("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}}".utf8),
                               kind: .resource)
        }
        #expect(throws: PolicyError.self) {
            try PolicyDocument(json: Array(repeating: UInt8(ascii: " "), count: 30_000), kind: .resource)
        }
    }
}

@Suite("Principal and NotPrincipal, as the IAM User Guide's examples have them")
struct PrincipalTests {
    static let account = "123456789012"
    static let root = "arn:aws:iam::123456789012:root"
    static let bob = "arn:aws:iam::123456789012:user/bob"
    static let carol = "arn:aws:iam::123456789012:user/carol"

    static func bucket(_ statement: String) throws -> PolicyDocument {
        try PolicyDocument(json: Array(#"{"Version": "2012-10-17", "Statement": [\#(statement)]}"#.utf8), kind: .resource)
    }

    static func decision(_ document: PolicyDocument, _ principal: String?) -> Decision {
        PolicyEvaluator.evaluate(identity: [], resource: ("bucket", document),
                                 context: RequestContext(action: "s3:GetObject", resource: "arn:aws:s3:::b/k",
                                                         principalArn: principal,
                                                         principalAccount: principal == nil ? nil : account)).decision
    }

    @Test("Deny with NotPrincipal [user/bob, account]: everyone but Bob and the account principal is denied")
    func denyEveryoneExceptBob() throws {
        let policy = try Self.bucket("""
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["\(Self.bob)", "\(Self.root)"]}, "Action": "s3:*",
             "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}
            """)
        #expect(Self.decision(policy, Self.carol) == .explicitDeny)
        #expect(Self.decision(policy, nil) == .explicitDeny)
        #expect(Self.decision(policy, Self.bob) == .implicitDeny)
        #expect(Self.decision(policy, Self.root) == .implicitDeny)
        // The account given as its id means the same.
        let byID = try Self.bucket("""
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["\(Self.bob)", "\(Self.account)"]}, "Action": "s3:*", "Resource": "*"}
            """)
        #expect(Self.decision(byID, Self.carol) == .explicitDeny)
        #expect(Self.decision(byID, Self.bob) == .implicitDeny)
    }

    @Test("Deny with NotPrincipal [user/bob] alone denies the whole account, Bob included; [account] exempts only the root")
    func notPrincipalWithoutTheAccount() throws {
        let bobOnly = try Self.bucket("""
            {"Effect": "Deny", "NotPrincipal": {"AWS": "\(Self.bob)"}, "Action": "s3:*", "Resource": "*"}
            """)
        #expect(Self.decision(bobOnly, Self.bob) == .explicitDeny)
        #expect(Self.decision(bobOnly, Self.carol) == .explicitDeny)
        #expect(Self.decision(bobOnly, Self.root) == .explicitDeny)
        let accountOnly = try Self.bucket("""
            {"Effect": "Deny", "NotPrincipal": {"AWS": "\(Self.root)"}, "Action": "s3:*", "Resource": "*"}
            """)
        #expect(Self.decision(accountOnly, Self.root) == .implicitDeny)
        #expect(Self.decision(accountOnly, Self.bob) == .explicitDeny)
        #expect(Self.decision(accountOnly, nil) == .explicitDeny)
    }

    @Test("Principal: the account in a Deny binds its users; in an Allow it grants to the root only")
    func principalAccount() throws {
        let deny = try Self.bucket("""
            {"Effect": "Deny", "Principal": {"AWS": "\(Self.account)"}, "Action": "s3:*", "Resource": "*"}
            """)
        #expect(Self.decision(deny, Self.carol) == .explicitDeny)
        #expect(Self.decision(deny, Self.root) == .explicitDeny)
        #expect(Self.decision(deny, nil) == .implicitDeny)
        let allow = try Self.bucket("""
            {"Effect": "Allow", "Principal": {"AWS": "\(Self.root)"}, "Action": "s3:*", "Resource": "*"}
            """)
        #expect(Self.decision(allow, Self.root) == .allowed)
        #expect(Self.decision(allow, Self.carol) == .implicitDeny)
        let user = try Self.bucket("""
            {"Effect": "Allow", "Principal": {"AWS": "\(Self.bob)"}, "Action": "s3:*", "Resource": "*"}
            """)
        #expect(Self.decision(user, Self.bob) == .allowed)
        #expect(Self.decision(user, Self.carol) == .implicitDeny)
    }

    @Test("NotPrincipal with Allow is not supported")
    func notPrincipalAllow() {
        #expect(throws: PolicyError.self) {
            try Self.bucket(#"{"Effect": "Allow", "NotPrincipal": {"AWS": "123456789012"}, "Action": "s3:*", "Resource": "*"}"#)
        }
    }

    @Test("Documents are strict JSON: trailing commas, comments, duplicate keys are MalformedPolicy, naming where")
    func strictDocuments() {
        for text in [#"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",}]}"#,
                     #"{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},]}"#,
                     #"{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}} // ok"#,
                     #"{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}}"#] {
            #expect(throws: PolicyError.self, "\(text)") { try PolicyDocument(json: Array(text.utf8), kind: .identity) }
        }
        do {
            _ = try PolicyDocument(json: Array("{\"Statement\": [\n  {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n]}".utf8),
                                   kind: .identity)
            Issue.record("a trailing comma before ] was accepted")
        } catch {
            #expect(error.message.contains("line 3"), "\(error)")
        }
    }
}
