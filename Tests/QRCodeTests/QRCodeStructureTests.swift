import Testing
@testable import QRCode

@Suite("QR Code structure")
struct QRCodeStructureTests {
    @Test("Byte capacities of versions 1 and 40 match the standard's table")
    func capacities() {
        let expected: [(ErrorCorrectionLevel, Int, Int)] = [
            (.low, 17, 2953), (.medium, 14, 2331), (.quartile, 11, 1663), (.high, 7, 1273),
        ]
        for (level, first, last) in expected {
            #expect(QRCode.byteCapacity(version: 1, level: level) == first)
            #expect(QRCode.byteCapacity(version: 40, level: level) == last)
        }
        // Version 10-M switches to a 16-bit count: 213 bytes (Table 7).
        #expect(QRCode.byteCapacity(version: 10, level: .medium) == 213)
        #expect(QRCode.byteCapacity(version: 9, level: .medium) == 180)
    }

    @Test("Total codewords per version (Table 1) follow from the function patterns")
    func totalCodewords() {
        let table = [1: 26, 2: 44, 6: 172, 7: 196, 14: 581, 21: 1156, 32: 2465, 35: 2876, 40: 3706]
        for (version, total) in table { #expect(QRCode.totalCodewordCount(version: version) == total) }
        for version in 1...40 {
            for level in ErrorCorrectionLevel.allCases {
                #expect(QRCode.dataCodewordCount(version: version, level: level) > 0)
            }
        }
    }

    @Test("Alignment pattern centres (Annex E)")
    func alignment() {
        #expect(Grid.alignmentPositions(version: 1) == [])
        #expect(Grid.alignmentPositions(version: 2) == [6, 18])
        #expect(Grid.alignmentPositions(version: 7) == [6, 22, 38])
        #expect(Grid.alignmentPositions(version: 15) == [6, 26, 48, 70])
        #expect(Grid.alignmentPositions(version: 32) == [6, 34, 60, 86, 112, 138])
        #expect(Grid.alignmentPositions(version: 36) == [6, 24, 50, 76, 102, 128, 154])
        #expect(Grid.alignmentPositions(version: 40) == [6, 30, 58, 86, 114, 142, 170])
    }

    @Test("Reed–Solomon: the HELLO WORLD 1-M example")
    func reedSolomon() {
        let data: [UInt8] = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17]
        let ecc = ReedSolomon.remainder(of: data[...], generator: ReedSolomon.generator(degree: 10))
        #expect(ecc == [196, 35, 39, 119, 235, 215, 231, 226, 93, 23])
    }

    @Test("Format information: level M, mask 5 reads 100000011001110 top-left")
    func formatBits() {
        var grid = Grid(version: 1)
        grid.drawFormatBits(level: .medium, mask: 5)
        // Bits 14…9 along row 8 (columns 0…5), then 8 at column 7, 7 at (8, 8), 6 at row 7, 5…0 up column 8.
        var bits = (0...5).map { grid[$0, 8] } + [grid[7, 8], grid[8, 8], grid[8, 7]]
        bits += (0...5).reversed().map { grid[8, $0] }
        let text = String(bits.map { $0 ? "1" : "0" })
        #expect(text == "100000011001110")
        #expect(grid[8, grid.size - 8])  // the dark module
    }

    @Test("The smallest version that fits is chosen, and the size follows")
    func versionChoice() throws {
        let one = try QRCode(encoding: String(repeating: "a", count: 17), level: .low)
        #expect(one.version == 1)
        #expect(one.size == 21)
        let two = try QRCode(encoding: String(repeating: "a", count: 18), level: .low)
        #expect(two.version == 2)
        let forty = try QRCode(encoding: [UInt8](repeating: 0x41, count: 2953), level: .low)
        #expect(forty.version == 40)
        #expect(forty.size == 177)
        #expect(throws: QRCodeError.dataTooLong(2954, capacity: 2953)) {
            try QRCode(encoding: [UInt8](repeating: 0x41, count: 2954), level: .low)
        }
        #expect(throws: QRCodeError.invalidMask(8)) { try QRCode(encoding: [1], mask: 8) }
    }

    @Test("The chosen mask scores lowest of all eight", arguments: ErrorCorrectionLevel.allCases)
    func maskChoice(level: ErrorCorrectionLevel) throws {
        let text = Array("otpauth://totp/Coffer:dev@123456789012?secret=ABCDEFGHIJKLMNOP&issuer=Coffer".utf8)
        let chosen = try QRCode(encoding: text, level: level)
        var scores: [Int] = []
        for mask in 0...7 {
            let forced = try QRCode(encoding: text, level: level, mask: mask)
            var grid = Grid(version: forced.version)
            grid.dark = forced.modules
            scores.append(grid.penalty())
        }
        #expect(scores[chosen.mask] == scores.min())
        #expect(Set(scores).count > 1)  // the masks really differ
    }

    @Test("Penalty rules N1–N4 on hand-made grids")
    func penaltyRules() {
        // All light, 21×21: N1 each of 42 lines is one run of 21 → 21 − 2 = 19; N2 every 2×2 block:
        // 20 × 20 × 3; N3: no dark modules, none; N4: 0 % dark → 10 steps of 5 % → 100.
        var grid = Grid(version: 1)
        grid.dark = Array(repeating: false, count: 21 * 21)
        #expect(grid.penalty() == 42 * 19 + 400 * 3 + 100)
        // A checkerboard: no runs, no blocks, no finder-like runs, exactly half... 221 of 441 dark → 0.
        grid.dark = (0..<(21 * 21)).map { ($0 / 21 + $0 % 21) % 2 == 0 }
        #expect(grid.penalty() == 0)
    }
}
