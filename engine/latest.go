package engine

// Latest returns a progress callback that sends on ch without ever waiting,
// and keeps what the receiver will read current: when ch's buffer is full,
// the oldest pending update is taken back out and the new one put in its
// place. A receiver that falls behind therefore skips intermediate updates
// but never the last one, and sees the ones it gets in the order they were
// sent; the last value received before ch is closed is the final state.
//
// ch wants a buffer of one (make(chan T, 1)): the receiver then reads at
// most one stale update. A larger buffer works as a queue that forgets its
// oldest entries. An unbuffered channel has nowhere to keep a pending
// update, so on one an update is delivered only when the receiver is
// already waiting for it.
//
// Latest assumes a single producer: the callback is called from one
// goroutine at a time (as training and attack loops do), which is what
// guarantees that a send follows every drain. Several producers would each
// send without blocking but could replace one another's newer updates.
// Closing ch is up to the producer's owner, after the last call.
func Latest[T any](ch chan T) func(T) {
	if cap(ch) == 0 {
		return func(v T) {
			select {
			case ch <- v:
			default:
			}
		}
	}
	return func(v T) {
		for {
			select {
			case ch <- v:
				return
			default:
			}
			// Full: drop the stale update, unless the receiver just took
			// it, and try again. With one producer the slot freed here
			// stays free, so the loop runs at most twice.
			select {
			case <-ch:
			default:
			}
		}
	}
}
