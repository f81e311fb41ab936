import CZlib

/// A minimal PNG writer for black-and-white images: 1-bit grayscale, one IDAT deflated by zlib.
public enum PNG {
    /// The 8-byte PNG signature.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes a `width` × `height` image; `isDark(x, y)` says which pixels are black.
    public static func encode(width: Int, height: Int, isDark: (Int, Int) -> Bool) throws(PNGError) -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else { throw .invalidSize }
        let rowBytes = (width + 7) / 8
        var raw = [UInt8](repeating: 0, count: height * (1 + rowBytes))
        for y in 0..<height {
            let rowStart = y * (1 + rowBytes)  // raw[rowStart] is filter type 0 (None)
            for x in 0..<width where !isDark(x, y) {
                raw[rowStart + 1 + x / 8] |= 0x80 >> UInt8(x % 8)  // 1 = white in grayscale
            }
        }

        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [1, 0, 0, 0, 0]  // bit depth 1, grayscale, deflate, adaptive filtering, no interlace

        var png = signature
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", try deflate(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// A QR code as a PNG: `scale` pixels a module, with a light quiet zone of `border` modules.
    public static func encode(_ code: QRCode, scale: Int = 6, border: Int = 4) throws(PNGError) -> [UInt8] {
        guard (1...64).contains(scale), (0...16).contains(border) else { throw .invalidSize }
        let side = (code.size + 2 * border) * scale
        return try encode(width: side, height: side) { x, y in
            let moduleX = x / scale - border, moduleY = y / scale - border
            guard (0..<code.size).contains(moduleX), (0..<code.size).contains(moduleY) else { return false }
            return code[moduleX, moduleY]
        }
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        png.appendBigEndian(UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        png += typeAndData
        let crc = typeAndData.withUnsafeBufferPointer { buffer in
            crc32(0, buffer.baseAddress, uInt(buffer.count))
        }
        png.appendBigEndian(UInt32(truncatingIfNeeded: crc))
    }

    /// zlib-format deflate at the best compression.
    private static func deflate(_ input: [UInt8]) throws(PNGError) -> [UInt8] {
        var capacity = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &capacity, source.baseAddress, uLong(source.count), Z_BEST_COMPRESSION)
            }
        }
        guard status == Z_OK else { throw .compressionFailed(Int(status)) }
        output.removeSubrange(Int(capacity)...)
        return output
    }
}

/// Why a PNG could not be written.
public enum PNGError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidSize
    case compressionFailed(Int)

    public var description: String {
        switch self {
        case .invalidSize: "image size, scale or border out of range"
        case .compressionFailed(let status): "zlib compression failed (status \(status))"
        }
    }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}
