/// Entry points for "where does the variance come from" (statistics.md §3).
public enum VarianceDecomposition {
    /// Seed versus repeat noise within one dataset: `groups[s]` holds the values of the replicas of seed s
    /// (unequal replica counts allowed). See ``SeedVariance``.
    public static func oneWay(groups: [[Double]]) -> SeedVariance {
        SeedVariance(groups: groups)
    }

    /// Dataset × hardware class × seeds: `values[d][h]` holds the runs (one per seed) of dataset d on hardware
    /// class h. Nil unless balanced with at least 2 datasets, 2 hardware classes and 2 seeds per cell.
    /// See ``HardwareVariance``.
    public static func twoWay(_ values: [[[Double]]]) -> HardwareVariance? {
        HardwareVariance(values: values)
    }

    /// Differences between datasets: `datasets[d]` holds all runs of dataset d. Gives `scipy.stats.f_oneway`'s
    /// F and p and the share of variance between datasets (`between_share`; `eta_squared` is the share of the
    /// sum of squares). See ``OneWayANOVA``.
    public static func acrossDatasets(_ datasets: [[Double]]) -> OneWayANOVA {
        OneWayANOVA(groups: datasets)
    }
}
