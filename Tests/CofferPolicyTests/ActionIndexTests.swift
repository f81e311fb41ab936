import CofferPolicy
import Testing

/// `ActionIndex`: evaluation visits only the statements that can name the request's action. Its
/// decisions and matched statements must be exactly those of checking every statement in turn.
@Suite("Policies: the action index")
struct ActionIndexTests {
    static let document = """
    {"Version": "2012-10-17", "Statement": [
      {"Sid": "Put", "Effect": "Allow", "Action": ["s3:PutObject", "S3:GETOBJECTTAGGING"], "Resource": "*"},
      {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "arn:aws:s3:::b/*"},
      {"Sid": "Wild", "Effect": "Allow", "Action": "s3:Get*Acl", "Resource": "*"},
      {"Sid": "Not", "Effect": "Deny", "NotAction": ["s3:GetObject", "iam:*"], "Resource": "arn:aws:s3:::secret/*"},
      {"Sid": "One", "Effect": "Allow", "Action": "s3:GetObjectVersio?", "Resource": "*"},
      {"Sid": "Star", "Effect": "Deny", "Action": "s3:\\u0001", "Resource": "*"},
      {"Sid": "Cased", "Effect": "Deny", "Action": "S3:getobject", "Resource": "arn:aws:s3:::b/private/*",
       "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
    ]}
    """

    @Test("Decisions and matched statements equal a check of every statement", arguments: [
        "s3:GetObject", "S3:getobject", "s3:PutObject", "s3:getobjecttagging", "s3:GetBucketAcl", "s3:GetObjectAcl",
        "s3:GetObjectVersion", "s3:DeleteObject", "iam:CreateUser", "s3:*", "s3:\u{1}", "s3:ListBucket", "",
    ])
    func sameAsFullScan(action: String) throws {
        let document = try PolicyDocument(json: Array(Self.document.utf8), kind: .identity)
        for resource in ["arn:aws:s3:::b/k", "arn:aws:s3:::b/private/k", "arn:aws:s3:::secret/k", "arn:aws:s3:::other"] {
            for keys in [[:], ["aws:multifactorauthpresent": ["false"]]] as [[String: [String]]] {
                let context = RequestContext(action: action, resource: resource,
                                             principalArn: "arn:aws:iam::123456789012:user/u", keys: keys)
                let evaluation = PolicyEvaluator.evaluate(identity: [("p", document)], resource: nil, context: context)
                // Every statement, in order, by the public per-statement check.
                var expected: [Int] = []
                var allowed = false
                var denied = false
                for (index, statement) in document.statements.enumerated()
                where PolicyEvaluator.matches(statement, version: document.version, context: context, isResource: false) {
                    expected.append(index + 1)
                    if statement.effect == .deny { denied = true } else { allowed = true }
                }
                #expect(evaluation.matched.map(\.index) == expected, "\(action) on \(resource) with \(keys)")
                let decision: Decision = denied ? .explicitDeny : allowed ? .allowed : .implicitDeny
                #expect(evaluation.decision == decision, "\(action) on \(resource) with \(keys)")
            }
        }
    }
}
