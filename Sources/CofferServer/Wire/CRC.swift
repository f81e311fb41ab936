/// Reflected CRCs for S3's flexible checksums, slice-by-8: CRC32C (Castagnoli, 0x82F63B78) and
/// CRC64NVME (0x9A6C9329AC4BC9B5, the reflected 0xAD93D23594C93659). Both start from all ones and
/// are complemented at the end. (CRC32 itself comes from the system zlib.)
struct CRC32C {
    private(set) var state: UInt32 = 0xFFFF_FFFF
    static let tables = reflectedCRCTables(polynomial: UInt32(0x82F6_3B78))

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        var index = 0
        let count = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            while index + 8 <= count {
                let low = crc ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8
                    | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
                crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(bytes[index + 4])] ^ t[2 * 256 + Int(bytes[index + 5])]
                    ^ t[1 * 256 + Int(bytes[index + 6])] ^ t[Int(bytes[index + 7])]
                index += 8
            }
            while index < count {
                crc = t[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        state = crc
    }

    var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// Big-endian digest bytes, as S3 base64-encodes them.
    var digest: [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
}

struct CRC64NVME {
    private(set) var state: UInt64 = .max
    static let tables = reflectedCRCTables(polynomial: UInt64(0x9A6C_9329_AC4B_C9B5))

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        var index = 0
        let count = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            while index + 8 <= count {
                var word: UInt64 = 0
                for shift in 0..<8 { word |= UInt64(bytes[index + shift]) << UInt64(shift * 8) }
                let x = crc ^ word
                crc = t[7 * 256 + Int(x & 0xFF)] ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)] ^ t[4 * 256 + Int((x >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((x >> 32) & 0xFF)] ^ t[2 * 256 + Int((x >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((x >> 48) & 0xFF)] ^ t[Int(x >> 56)]
                index += 8
            }
            while index < count {
                crc = t[Int((crc ^ UInt64(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        state = crc
    }

    var value: UInt64 { state ^ .max }

    var digest: [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
}

/// The 8 × 256 slice-by-8 tables of a reflected CRC: table 0 is the classic byte table; table k
/// advances a byte's contribution by k more bytes.
func reflectedCRCTables<T: FixedWidthInteger & UnsignedInteger>(polynomial: T) -> [T] {
    var tables = [T](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
        var crc = T(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
        tables[byte] = crc
    }
    for slice in 1..<8 {
        for byte in 0..<256 {
            let previous = tables[(slice - 1) * 256 + byte]
            tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}
