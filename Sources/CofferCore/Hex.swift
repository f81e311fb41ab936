/// Lowercase hex of bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    var output: [UInt8] = []
    appendHex(bytes, to: &output)
    return String(decoding: output, as: UTF8.self)
}

/// Appends the lowercase hex of `bytes`. (Hot paths with a digest should pass its
/// `withUnsafeBytes` buffer: a digest iterated as a Sequence first copies itself into an array.)
public func appendHex(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
    if bytes.withContiguousStorageIfAvailable({ appendHex(UnsafeRawBufferPointer($0), to: &output) }) == nil {
        Array(bytes).withUnsafeBytes { appendHex($0, to: &output) }
    }
}

/// Appends the lowercase hex of the bytes in `buffer`.
public func appendHex(_ buffer: UnsafeRawBufferPointer, to output: inout [UInt8]) {
    let digits: StaticString = "0123456789abcdef"
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: 2 * buffer.count))
    digits.withUTF8Buffer { digits in
        output.withUnsafeMutableBufferPointer { out in
            var index = start
            for byte in buffer {
                out[index] = digits[Int(byte >> 4)]
                out[index + 1] = digits[Int(byte & 15)]
                index += 2
            }
        }
    }
}
