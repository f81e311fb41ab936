import HTTPTypes

extension HTTPFields {
    /// The field's value as `self[name]` gives it (repeated fields joined with commas, or cookies
    /// with semicolons), found in one pass without building a new string when the field occurs
    /// once: the subscript joins even a single value into a fresh string, and requests read a
    /// handful of fields each.
    func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }  // repeated: joined as the subscript does
            found = field.value
        }
        return found
    }

    /// Whether the request carries the field at all.
    func has(_ name: HTTPField.Name) -> Bool {
        contains { $0.name == name }
    }
}
