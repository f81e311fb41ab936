// swift-tools-version:6.2
import PackageDescription

/// `COFFER_FUZZ=1 swift build --product coffer-fuzz` (scripts/fuzz): Coffer's own modules get
/// libFuzzer's coverage instrumentation and the harness libFuzzer's entry. Dependencies keep their
/// flags, so their build products are reused and only our modules recompile.
let fuzzing = Context.environment["COFFER_FUZZ"] != nil
let instrumented: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []

let package = Package(
    name: "Coffer",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "coffer", targets: ["coffer"]),
        .library(name: "TOTP", targets: ["TOTP"]),
        .library(name: "QRCode", targets: ["QRCode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        // The web console's HTML templates (logic-less, HTML-escaping by default).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        // Outgoing HTTP (the SMS webhook): a maintained client, with timeouts, TLS and pooling.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.20.0"),
        // Cluster mode's metadata engine: PostgreSQL's wire protocol, maintained by the Vapor team.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.20.0"),
    ],
    targets: [
        // Pure RFC 4226/6238, Base32 and otpauth URIs. Knows nothing of Coffer.
        .target(name: "TOTP", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: instrumented),
        // The system zlib (deflate for PNG IDAT, crc32 for PNG chunks and S3 checksums).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // A QR Code encoder (ISO/IEC 18004) and a grayscale PNG writer. Knows nothing of Coffer.
        .target(name: "QRCode", dependencies: ["CZlib"]),
        // WebAuthn for the relying party: a strict CBOR decoder, COSE keys, attestation and assertion
        // checks. Knows nothing of Coffer.
        .target(name: "WebAuthn", dependencies: [
            "StrictJSON", .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: instrumented),
        // JSON read strictly by RFC 8259 (no trailing commas, comments, duplicate keys, byte-order
        // mark or lone surrogates), for every JSON document that comes from outside. Knows nothing of Coffer.
        .target(name: "StrictJSON", swiftSettings: instrumented),
        // Values, state machines and the one table of S3 errors. No I/O.
        .target(name: "CofferCore", swiftSettings: instrumented),
        // IAM policy documents and AWS's evaluation logic. Pure: no I/O, no Coffer types.
        .target(name: "CofferPolicy", dependencies: ["StrictJSON"], swiftSettings: instrumented),
        // C that Swift cannot call directly: O_DIRECT (needs _GNU_SOURCE), sqlite3_config (variadic).
        .target(name: "CShims", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The metadata (SQLite through GRDB, or PostgreSQL) and blob files; the only code that knows SQL.
        .target(name: "CofferStore", dependencies: [
            "CofferCore", "CShims", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: instrumented),
        // IAM: users, groups, policies, access keys, sessions, console sign-in, and the MFA devices with
        // the one verifier of every code; audit. No HTTP.
        .target(name: "CofferIAM", dependencies: [
            "CofferCore", "CofferStore", "CofferPolicy", "TOTP", "QRCode", "WebAuthn", .product(name: "Crypto", package: "swift-crypto"),
            // scrypt for passwords (KDF.Scrypt): swift-crypto's own extras, BoringSSL underneath.
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: instrumented),
        // SMS delivery through a signed HTTP webhook (async-http-client). Kept apart so that only
        // the executable links the HTTP client.
        .target(name: "SMSWebhook", dependencies: [
            "CofferCore", "CofferIAM", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // S3 semantics: versioning, version stacks, deletes, listings, the MFA gate. No HTTP.
        .target(name: "CofferEngine", dependencies: [
            "CofferCore", "CofferStore", "CofferIAM", "CofferPolicy", .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: instrumented),
        // HTTP: S3 REST API on Hummingbird, SigV4, XML, request bodies.
        .target(name: "CofferServer", dependencies: [
            "CofferCore", "CofferStore", "CofferEngine", "CofferIAM", "CofferPolicy", "CZlib", "TOTP", "WebAuthn",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "_NIOFileSystem", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Mustache", package: "swift-mustache"),
        ], resources: [.copy("Console/Resources")], swiftSettings: instrumented),
        // The `coffer` executable.
        .executableTarget(
            name: "coffer",
            dependencies: [
                "TOTP", "QRCode", "CofferCore", "CofferPolicy", "CofferServer", "CofferIAM", "CofferStore", "SMSWebhook",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Micro-benchmarks driven by scripts/bench-*; not a test.
        .executableTarget(
            name: "coffer-bench",
            dependencies: ["TOTP", "CofferCore", "CofferStore", "CofferIAM", "CofferEngine",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Fuzz harnesses for every parser of outside input. Built with `-sanitize=fuzzer -DFUZZING`
        // by scripts/fuzz (libFuzzer's entry); a plain build replays corpora and crash files.
        .executableTarget(
            name: "coffer-fuzz",
            dependencies: ["CofferCore", "CofferEngine", "CofferIAM", "CofferPolicy", "CofferServer", "TOTP", "CShims", "WebAuthn", "StrictJSON",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           // `head` reads each input with NIO's own decoder too, and compares.
                           .product(name: "NIOEmbedded", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras")],
            swiftSettings: instrumented + (fuzzing ? [.define("FUZZING")] : []),
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []
        ),
        .testTarget(name: "CofferEngineTests", dependencies: ["CofferEngine", "CofferStore", "CofferCore", "CofferIAM", "TOTP", "QRCode"]),
        .testTarget(name: "CofferServerTests", dependencies: [
            "CofferServer", "CofferCore", "CofferIAM", "CofferStore", "TOTP",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
        ]),
        .testTarget(name: "TOTPTests", dependencies: ["TOTP"]),
        .testTarget(name: "CofferPolicyTests", dependencies: ["CofferPolicy"]),
        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON"]),
        .testTarget(name: "CofferIAMTests", dependencies: ["CofferIAM", "CofferStore", "CofferCore", "TOTP"]),
        .testTarget(name: "CofferStoreTests", dependencies: ["CofferStore", "CofferCore"]),
        .testTarget(name: "WebAuthnTests", dependencies: ["WebAuthn", .product(name: "Crypto", package: "swift-crypto"),
                                                          .product(name: "CryptoExtras", package: "swift-crypto")]),
        .testTarget(name: "QRCodeTests", dependencies: ["QRCode", "CZlib"]),
        .testTarget(name: "CofferCLITests", dependencies: ["coffer", "TOTP"]),
    ]
)
