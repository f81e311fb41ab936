/// The mask evaluation of ISO/IEC 18004 §7.8.3: lower is better.
extension Grid {
    func penalty() -> Int {
        var score = 0
        for line in 0..<size {
            score += linePenalty { self[$0, line] }   // row
            score += linePenalty { self[line, $0] }   // column
        }
        // N2: each 2×2 block of one colour.
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let colour = self[x, y]
                if colour == self[x + 1, y], colour == self[x, y + 1], colour == self[x + 1, y + 1] { score += 3 }
            }
        }
        // N4: 10 points for every full 5 % the dark share lies away from 50 %.
        let darkCount = dark.lazy.filter { $0 }.count
        let total = size * size
        score += abs(darkCount * 20 - total * 10) / total * 10
        return score
    }

    /// N1 (runs of five or more of one colour: 3 + run − 5) and N3 (a 1:1:3:1:1 finder-like
    /// pattern with four light modules on either side: 40) along one row or column. Modules
    /// beyond the edge count as light, as the quiet zone there is.
    private func linePenalty(_ module: (Int) -> Bool) -> Int {
        var score = 0
        var runColour = module(0)
        var runLength = 1
        for index in 1..<size {
            if module(index) == runColour {
                runLength += 1
            } else {
                if runLength >= 5 { score += runLength - 2 }
                runColour = module(index)
                runLength = 1
            }
        }
        if runLength >= 5 { score += runLength - 2 }

        let finderLike: [Bool] = [true, false, true, true, true, false, true]
        func at(_ index: Int) -> Bool { (0..<size).contains(index) ? module(index) : false }
        for start in 0...(size - 7) {
            guard (0..<7).allSatisfy({ at(start + $0) == finderLike[$0] }) else { continue }
            let lightBefore = (1...4).allSatisfy { !at(start - $0) }
            let lightAfter = (0..<4).allSatisfy { !at(start + 7 + $0) }
            if lightBefore { score += 40 }
            if lightAfter { score += 40 }
        }
        return score
    }
}
