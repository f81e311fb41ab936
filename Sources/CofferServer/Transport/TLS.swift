import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// TLS material: a certificate and key given by the operator, or a self-signed certificate that
/// `--tls-self-signed` creates once in the data folder (`tls/cert.pem`, `tls/key.pem`, mode 0600
/// for the key) for the configured host names. The certificate is its own CA: hand its path to
/// `--ca-bundle` / `AWS_CA_BUNDLE`.
public enum TLSMaterial {
    /// Creates the self-signed certificate unless it exists; returns its paths and whether it was created.
    public static func selfSigned(in folder: URL, hostNames: [String]) throws -> (certificate: URL, key: URL, created: Bool) {
        let directory = folder.appendingPathComponent("tls")
        let certificateFile = directory.appendingPathComponent("cert.pem")
        let keyFile = directory.appendingPathComponent("key.pem")
        if FileManager.default.fileExists(atPath: certificateFile.path), FileManager.default.fileExists(atPath: keyFile.path) {
            return (certificateFile, keyFile, false)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Coffer")
            CommonName("Coffer self-signed (\(hostNames.first ?? "localhost"))")
        }
        var names: [GeneralName] = []
        for host in Set(hostNames + ["localhost", "127.0.0.1", "::1"]).sorted() {
            if let address = IPv4Address(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes))))
            } else if host == "::1" {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(Array(repeating: 0, count: 15) + [1]))))
            } else {
                names.append(.dnsName(host))
            }
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        guard FileManager.default.createFile(atPath: keyFile.path, contents: Data(key.pemRepresentation.utf8),
                                             attributes: [.posixPermissions: 0o600]),
              FileManager.default.createFile(atPath: certificateFile.path,
                                             contents: Data(try certificate.serializeAsPEM().pemString.utf8))
        else { throw CocoaError(.fileWriteNoPermission) }
        return (certificateFile, keyFile, true)
    }

    /// A server configuration from PEM files.
    public static func configuration(certificate: URL, key: URL) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate.path).map { NIOSSLCertificateSource.certificate($0) }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key.path, format: .pem)))
    }
}

/// Dotted-quad IPv4 parsing for subject alternative names.
struct IPv4Address {
    let bytes: [UInt8]
    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        self.bytes = bytes
    }
}
