package transfer

// megabytes converts bytes per second to MB/s.
func megabytes(bps float64) float64 { return bps / 1e6 }

// megabits converts bytes per second to Mbit/s.
func megabits(bps float64) float64 { return bps * 8 / 1e6 }
