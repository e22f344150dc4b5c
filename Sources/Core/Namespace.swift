/// What a namespace name may be: short, plain ASCII, safe in keys, topics, paths and logs.
public enum Namespace {
    public static func isValid(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.".unicodeScalars.contains(scalar))
            }
    }
}
