import CZlib
import Testing
@testable import QRCode

@Suite("PNG structure")
struct PNGTests {
    struct Chunk { let type: String; let data: [UInt8]; let crc: UInt32 }

    static func chunks(_ png: [UInt8]) throws -> [Chunk] {
        #expect(Array(png.prefix(8)) == PNG.signature)
        var chunks: [Chunk] = []
        var offset = 8
        func word(_ at: Int) -> UInt32 {
            png[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        while offset < png.count {
            let length = Int(word(offset))
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = Array(png[(offset + 8)..<(offset + 8 + length)])
            chunks.append(Chunk(type: type, data: data, crc: word(offset + 8 + length)))
            offset += 12 + length
        }
        #expect(offset == png.count)
        return chunks
    }

    @Test("Signature, IHDR, CRCs and an IDAT that inflates to the exact raster size",
          arguments: [(1, 0), (1, 4), (3, 4), (6, 4), (10, 2)])
    func structure(scale: Int, border: Int) throws {
        let code = try QRCode(encoding: "otpauth://totp/Coffer:dev@123456789012?secret=JBSWY3DPEHPK3PXP&issuer=Coffer")
        let png = try PNG.encode(code, scale: scale, border: border)
        let chunks = try Self.chunks(png)
        #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        for chunk in chunks {
            let bytes = Array(chunk.type.utf8) + chunk.data
            let crc = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
            #expect(UInt32(crc) == chunk.crc, "CRC of \(chunk.type)")
        }
        let side = (code.size + 2 * border) * scale
        let header = chunks[0].data
        #expect(header.count == 13)
        let width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
        let height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == side && height == side)
        #expect(Array(header[8...]) == [1, 0, 0, 0, 0])

        let expectedSize = side * (1 + (side + 7) / 8)
        var inflated = [UInt8](repeating: 0, count: expectedSize + 64)
        var inflatedSize = uLong(inflated.count)
        let idat = chunks[1].data
        let status = inflated.withUnsafeMutableBufferPointer { out in
            idat.withUnsafeBufferPointer { uncompress(out.baseAddress, &inflatedSize, $0.baseAddress, uLong($0.count)) }
        }
        #expect(status == Z_OK)
        #expect(Int(inflatedSize) == expectedSize)
        // Every row starts with filter type 0; the top-left pixel is in the quiet zone (white = 1)
        // unless there is no border, where it is the finder's dark corner (0).
        for row in 0..<side { #expect(inflated[row * (1 + (side + 7) / 8)] == 0) }
        #expect((inflated[1] & 0x80 != 0) == (border > 0))
    }

    @Test("Out-of-range sizes are refused")
    func refused() throws {
        let code = try QRCode(encoding: "x")
        #expect(throws: PNGError.invalidSize) { try PNG.encode(code, scale: 0) }
        #expect(throws: PNGError.invalidSize) { try PNG.encode(code, scale: 65) }
        #expect(throws: PNGError.invalidSize) { try PNG.encode(width: 0, height: 5) { _, _ in true } }
    }
}
