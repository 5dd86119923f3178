# Check suites of the IVF and binary indexes
