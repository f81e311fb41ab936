/// The AWS managed policies Coffer carries, under `arn:aws:iam::aws:policy/NAME` with AWS's
/// documents (the actions of services Coffer does not have are kept: they match nothing here).
/// Built in, never stored: they cannot be changed or deleted, only attached.
public struct AWSManagedPolicy: Sendable {
    public var name: String
    public var policyID: String
    public var versionID: String
    public var description: String
    public var document: String
    public var arn: String { "arn:aws:iam::aws:policy/\(name)" }
    /// When AWS published the version Coffer carries (its CreateDate / UpdateDate).
    public var created: Int64

    public static let all: [AWSManagedPolicy] = [
        AWSManagedPolicy(
            name: "AdministratorAccess", policyID: "ANPAIWMBCKSKIEE64ZLYK", versionID: "v1",
            description: "Provides full access to AWS services and resources.",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            created: 1_423_773_722_000),
        AWSManagedPolicy(
            name: "AmazonS3FullAccess", policyID: "ANPAIFIR6V6BVTRAHWINE", versionID: "v2",
            description: "Provides full access to all buckets via the AWS Management Console.",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
            created: 1_423_773_722_000),
        AWSManagedPolicy(
            name: "AmazonS3ReadOnlyAccess", policyID: "ANPAIZTJ4DXE7G6AGAE6M", versionID: "v3",
            description: "Provides read only access to all buckets via the AWS Management Console.",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
            created: 1_423_773_722_000),
        AWSManagedPolicy(
            name: "IAMReadOnlyAccess", policyID: "ANPAJKSO7NDY4T57MWDSQ", versionID: "v4",
            description: "Provides read only access to IAM via the AWS Management Console.",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
            created: 1_423_773_722_000),
        AWSManagedPolicy(
            name: "IAMUserChangePassword", policyID: "ANPAJ4L4MM2A7QIEB56MS", versionID: "v2",
            description: "Provides the ability for an IAM user to change their own password.",
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ChangePassword"],"Resource":["arn:aws:iam::*:user/${aws:username}"]},{"Effect":"Allow","Action":["iam:GetAccountPasswordPolicy"],"Resource":"*"}]}"#,
            created: 1_479_154_722_000),
    ]

    public static func named(arn: String) -> AWSManagedPolicy? { all.first { $0.arn == arn } }
}
