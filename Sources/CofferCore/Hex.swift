/// Lowercase hex of bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    var output: [UInt8] = []
    appendHex(bytes, to: &output)
    return String(decoding: output, as: UTF8.self)
}

/// Appends the lowercase hex of `bytes`.
public func appendHex(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
    let digits: StaticString = "0123456789abcdef"
    digits.withUTF8Buffer { digits in
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 15)])
        }
    }
}
