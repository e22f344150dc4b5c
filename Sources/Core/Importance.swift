import Foundation

/// Maps a raw importance (any finite number, as given) into the open interval (0, 1):
///
///     normalised(x) = 1/2 + atan(sign(x) * ln(1 + |x|)) / pi
///
/// The map is strictly increasing, so distinct raw values get distinct weights (exactly so for
/// |x| up to about 1e12 in double precision), equal raw values get equal weights, and no raw
/// value collapses to 0: 0 maps to 0.5, 1 to about 0.69, 10 to about 0.84, -1 to about 0.31.
/// It needs no other memory's value, unlike min-max scaling.
public enum Importance {
    public static let defaultRaw = 1.0

    public static func normalised(_ raw: Double) -> Double {
        let magnitude = log1p(abs(raw))
        let signed = raw < 0 ? -magnitude : magnitude
        return 0.5 + atan(signed) / Double.pi
    }
}
