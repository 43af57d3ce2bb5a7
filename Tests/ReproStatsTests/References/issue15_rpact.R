# Lan-DeMets O'Brien-Fleming-type boundaries from rpact (Debian r-cran-rpact), the second reference of
# AlphaSpendingTests.swift. Run: apt-get install -y r-cran-rpact && Rscript issue15_rpact.R
library(rpact)
cat("rpact", as.character(packageVersion("rpact")), "\n")
for (a in c(0.025, 0.05)) for (k in 2:5) {
  d <- getDesignGroupSequential(kMax = k, alpha = a, sided = 1, typeOfDesign = "asOF")
  cat(sprintf("alpha=%g K=%d: %s | cum alpha %s\n", a, k, paste(sprintf("%.10f", d$criticalValues), collapse=" "), paste(sprintf("%.10g", d$alphaSpent), collapse=" ")))
}
