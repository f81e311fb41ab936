import Crypto

/// HMAC-SHA1 specialised for one-time passwords: the key schedule (the SHA-1 states after the
/// ipad and opad blocks) is computed once, after which each 8-byte counter costs exactly two
/// SHA-1 compressions and no allocation. swift-crypto's general HMAC allocates per call (its
/// digest contexts are copy-on-write objects), which is most of the cost of a TOTP check.
///
/// SHA-1 is FIPS 180-4 §6.1; the compression has no data-dependent branches or table lookups.
/// Tests hold it to RFC 4226/6238 vectors, oathtool and swift-crypto's HMAC.
struct HMACSHA1Key {
    private var inner: SHA1State
    private var outer: SHA1State

    init(key: [UInt8]) {
        // Keys longer than a block are hashed first (RFC 2104); shorter ones are zero-padded.
        let material = key.count > 64 ? Array(Insecure.SHA1.hash(data: key)) : key
        var innerWords = SHA1Block()
        var outerWords = SHA1Block()
        for index in 0..<16 {
            var word: UInt32 = 0
            for byte in 0..<4 {
                let position = index * 4 + byte
                word = word << 8 | UInt32(position < material.count ? material[position] : 0)
            }
            innerWords[index] = word ^ 0x3636_3636
            outerWords[index] = word ^ 0x5c5c_5c5c
        }
        inner = .initial
        inner.compress(innerWords)
        outer = .initial
        outer.compress(outerWords)
    }

    /// The RFC 4226 dynamic truncation of HMAC-SHA1(key, counter as 8 big-endian bytes).
    @inline(__always)
    func truncated(counter: UInt64) -> UInt32 {
        // Inner: the 8-byte counter, 0x80, zeros, and the length (64 + 8 bytes) in bits.
        var message = SHA1Block()
        message[0] = UInt32(truncatingIfNeeded: counter >> 32)
        message[1] = UInt32(truncatingIfNeeded: counter)
        message[2] = 0x8000_0000
        message[15] = (64 + 8) * 8
        var innerHash = inner
        innerHash.compress(message)
        // Outer: the 20-byte inner digest, 0x80, zeros, and the length (64 + 20 bytes) in bits.
        var digestBlock = SHA1Block()
        digestBlock[0] = innerHash.a
        digestBlock[1] = innerHash.b
        digestBlock[2] = innerHash.c
        digestBlock[3] = innerHash.d
        digestBlock[4] = innerHash.e
        digestBlock[5] = 0x8000_0000
        digestBlock[15] = (64 + 20) * 8
        var outerHash = outer
        outerHash.compress(digestBlock)
        return outerHash.truncated()
    }
}

/// The five chaining words of SHA-1.
struct SHA1State {
    var a, b, c, d, e: UInt32

    static let initial = SHA1State(a: 0x6745_2301, b: 0xEFCD_AB89, c: 0x98BA_DCFE, d: 0x1032_5476, e: 0xC3D2_E1F0)

    /// RFC 4226 §5.3 on the digest these words spell (big-endian): the offset is the low nibble of
    /// the last byte, then 31 bits from there.
    @inline(__always)
    func truncated() -> UInt32 {
        let offset = Int(e & 0x0f)
        // Bytes offset…offset+3 of the digest straddle words i and i + 1 (i ≤ 3, as offset ≤ 15);
        // Swift's smart shift makes `low >> 32` zero, so the aligned case needs no branch.
        let index = offset >> 2
        let shift = UInt32((offset & 3) * 8)
        let value = (word(index) << shift) | (word(index + 1) >> (32 - shift))
        return value & 0x7fff_ffff
    }

    @inline(__always)
    private func word(_ index: Int) -> UInt32 {
        switch index {
        case 0: a
        case 1: b
        case 2: c
        case 3: d
        default: e
        }
    }

    /// One SHA-1 compression of a 16-word block.
    @inline(__always)
    mutating func compress(_ block: SHA1Block) {
        var schedule = block
        withUnsafeMutableBytes(of: &schedule.storage) { raw in
            compress(raw.baseAddress!.assumingMemoryBound(to: UInt32.self))
        }
    }

    /// One SHA-1 compression; `w` holds the 16 block words and is used as the rolling schedule.
    @inline(__always)
    private mutating func compress(_ w: UnsafeMutablePointer<UInt32>) {
        var a = self.a, b = self.b, c = self.c, d = self.d, e = self.e
        @inline(__always) func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
        @inline(__always) func word(_ t: Int) -> UInt32 {
            if t < 16 { return w[t] }
            let next = rotl(w[(t &- 3) & 15] ^ w[(t &- 8) & 15] ^ w[(t &- 14) & 15] ^ w[t & 15], 1)
            w[t & 15] = next
            return next
        }
        @inline(__always) func round(_ f: UInt32, _ k: UInt32, _ t: Int) {
            let temp = rotl(a, 5) &+ f &+ e &+ k &+ word(t)
            e = d; d = c; c = rotl(b, 30); b = a; a = temp
        }
        for t in 0..<20 { round(d ^ (b & (c ^ d)), 0x5A82_7999, t) }
        for t in 20..<40 { round(b ^ c ^ d, 0x6ED9_EBA1, t) }
        for t in 40..<60 { round((b & c) | (d & (b | c)), 0x8F1B_BCDC, t) }
        for t in 60..<80 { round(b ^ c ^ d, 0xCA62_C1D6, t) }
        self.a &+= a; self.b &+= b; self.c &+= c; self.d &+= d; self.e &+= e
    }
}

/// Sixteen 32-bit words on the stack.
struct SHA1Block {
    var storage: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                  UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    @inline(__always)
    subscript(index: Int) -> UInt32 {
        get { withUnsafeBytes(of: storage) { $0.load(fromByteOffset: index << 2, as: UInt32.self) } }
        set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: index << 2, as: UInt32.self) } }
    }
}
