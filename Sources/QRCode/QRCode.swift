/// A QR Code symbol (ISO/IEC 18004, Model 2) holding bytes in byte mode.
///
/// `QRCode(encoding:level:)` picks the smallest version (1…40) that holds the data at the
/// requested error-correction level, draws it with each of the 8 masks and keeps the one the
/// standard's penalty rules (§7.8.3) score lowest.
public struct QRCode: Sendable {
    /// 1…40.
    public let version: Int
    public let level: ErrorCorrectionLevel
    /// 0…7.
    public let mask: Int
    /// Modules per side: 4 × version + 17.
    public let size: Int
    /// Row-major; true is dark.
    public let modules: [Bool]

    /// Whether the module at column `x`, row `y` is dark.
    public subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    /// Encodes the UTF-8 bytes of `text`.
    public init(encoding text: String, level: ErrorCorrectionLevel = .medium) throws(QRCodeError) {
        try self.init(encoding: Array(text.utf8), level: level)
    }

    /// Encodes `bytes` in byte mode. Throws when not even version 40 can hold them.
    public init(encoding bytes: [UInt8], level: ErrorCorrectionLevel = .medium, mask: Int? = nil) throws(QRCodeError) {
        guard let version = (1...40).first(where: { Self.fits(count: bytes.count, version: $0, level: level) }) else {
            throw .dataTooLong(bytes.count, capacity: Self.byteCapacity(version: 40, level: level))
        }
        if let mask, !(0...7).contains(mask) { throw .invalidMask(mask) }
        let codewords = Self.codewords(for: bytes, version: version, level: level)
        var grid = Grid(version: version)
        grid.drawFunctionPatterns()
        grid.place(codewords)

        var bestGrid = grid
        var bestMask = 0
        var bestPenalty = Int.max
        for candidate in mask.map({ [$0] }) ?? Array(0...7) {
            var trial = grid
            trial.apply(mask: candidate)
            trial.drawFormatBits(level: level, mask: candidate)
            let penalty = mask == nil ? trial.penalty() : 0
            if penalty < bestPenalty {
                bestPenalty = penalty
                bestGrid = trial
                bestMask = candidate
            }
        }
        self.version = version
        self.level = level
        self.mask = bestMask
        self.size = bestGrid.size
        self.modules = bestGrid.dark
    }

    /// How many bytes a symbol of `version` holds at `level` in byte mode.
    public static func byteCapacity(version: Int, level: ErrorCorrectionLevel) -> Int {
        let bits = dataCodewordCount(version: version, level: level) * 8 - 4 - countBits(version)
        return max(0, bits / 8)
    }

    static func fits(count: Int, version: Int, level: ErrorCorrectionLevel) -> Bool {
        count < (1 << countBits(version)) && count <= byteCapacity(version: version, level: level)
    }

    /// Width of the byte-mode character count indicator (Table 3).
    static func countBits(_ version: Int) -> Int { version <= 9 ? 8 : 16 }

    /// All codewords (data + error correction) of a version, from the modules left for data.
    static func totalCodewordCount(version: Int) -> Int { Grid.dataModuleCount(version: version) / 8 }

    static func dataCodewordCount(version: Int, level: ErrorCorrectionLevel) -> Int {
        totalCodewordCount(version: version)
            - level.codewordsPerBlock[version - 1] * level.blockCounts[version - 1]
    }

    /// The data bit stream (mode, count, bytes, terminator, pad codewords), split into blocks,
    /// each followed by its Reed–Solomon codewords, interleaved (§7.6).
    static func codewords(for bytes: [UInt8], version: Int, level: ErrorCorrectionLevel) -> [UInt8] {
        let dataCapacity = dataCodewordCount(version: version, level: level)
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(UInt32(bytes.count), count: countBits(version))
        for byte in bytes { bits.append(UInt32(byte), count: 8) }
        bits.append(0, count: min(4, dataCapacity * 8 - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var data = bits.bytes
        var pad: UInt8 = 0xEC
        while data.count < dataCapacity {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }

        let blockCount = level.blockCounts[version - 1]
        let eccLength = level.codewordsPerBlock[version - 1]
        let total = totalCodewordCount(version: version)
        let longBlocks = total % blockCount
        let shortBlockLength = total / blockCount  // data + ecc of a short block
        let generator = ReedSolomon.generator(degree: eccLength)

        var dataBlocks: [ArraySlice<UInt8>] = []
        var eccBlocks: [[UInt8]] = []
        var start = 0
        for index in 0..<blockCount {
            let length = shortBlockLength - eccLength + (index >= blockCount - longBlocks ? 1 : 0)
            let block = data[start..<(start + length)]
            dataBlocks.append(block)
            eccBlocks.append(ReedSolomon.remainder(of: block, generator: generator))
            start += length
        }

        var result: [UInt8] = []
        result.reserveCapacity(total)
        for column in 0...(shortBlockLength - eccLength) {
            for block in dataBlocks where column < block.count {
                result.append(block[block.startIndex + column])
            }
        }
        for column in 0..<eccLength {
            for block in eccBlocks { result.append(block[column]) }
        }
        return result
    }
}

/// Why a QR Code could not be made.
public enum QRCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case dataTooLong(Int, capacity: Int)
    case invalidMask(Int)

    public var description: String {
        switch self {
        case .dataTooLong(let count, let capacity):
            "\(count) bytes do not fit in a QR code at this error-correction level (at most \(capacity))"
        case .invalidMask(let mask): "mask must be 0 to 7, not \(mask)"
        }
    }
}

/// Bits appended most significant first.
struct BitBuffer {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func append(_ value: UInt32, count width: Int) {
        guard width > 0 else { return }
        for shift in stride(from: width - 1, through: 0, by: -1) {
            if count % 8 == 0 { bytes.append(0) }
            if (value >> UInt32(shift)) & 1 == 1 { bytes[count / 8] |= 0x80 >> UInt8(count % 8) }
            count += 1
        }
    }
}
