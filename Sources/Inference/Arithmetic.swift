/// The product of `dimensions`, or nil when one is negative or the product overflows: sizes read from a
/// file are never trusted to fit.
func checkedProduct(_ dimensions: [Int]) -> Int? {
    var product = 1
    for dimension in dimensions {
        guard dimension >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        guard !overflow else { return nil }
        product = next
    }
    return product
}
