package experiments

// Knee is the index of the first point, in sweep order, past which latency
// rises faster than throughput: the relative latency increase from the
// point before exceeds the relative throughput increase. -1 when latency
// never outruns throughput.
func Knee(throughput, latency []float64) int {
	for i := 1; i < len(throughput) && i < len(latency); i++ {
		if throughput[i-1] <= 0 || latency[i-1] <= 0 {
			continue
		}
		dt := throughput[i]/throughput[i-1] - 1
		dl := latency[i]/latency[i-1] - 1
		if dl > dt && dl > 0 {
			return i
		}
	}
	return -1
}
