package redisstore

// stopRenewalForTest stops the renewal as a holder's death would, without releasing.
func (h *held) stopRenewalForTest() {
	close(h.stop)
	<-h.done
	h.stop = nil
}
