package engine

import (
	"runtime"
	"sync"
	"testing"
)

// TestLatestSlowConsumer checks the three promises of Latest against a
// consumer that is blocked while the producer runs: no send blocks, the
// last update is the one received last, and what is received is in order.
func TestLatestSlowConsumer(t *testing.T) {
	for _, tc := range []struct {
		name string
		cap  int
		sent int
	}{
		{"one slot", 1, 1000},
		{"one update", 1, 1},
		{"four slots", 4, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan int, tc.cap)
			send := Latest(ch)
			gate := make(chan struct{})
			var got []int
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate // blocked until the producer is done
				for v := range ch {
					got = append(got, v)
				}
			}()
			// The producer runs on the test goroutine: a send that waited
			// for the blocked consumer would hang the test here.
			for i := 1; i <= tc.sent; i++ {
				send(i)
			}
			close(gate)
			close(ch)
			wg.Wait()
			if len(got) == 0 || got[len(got)-1] != tc.sent {
				t.Fatalf("received %v; want it to end with the last update %d", got, tc.sent)
			}
			if len(got) > tc.cap {
				t.Errorf("received %d updates from a %d-slot channel; stale ones were kept", len(got), tc.cap)
			}
			// The slots hold the newest updates: the last cap ones sent.
			for i, v := range got {
				if want := tc.sent - len(got) + 1 + i; v != want {
					t.Errorf("update %d is %d; want %d (the newest, in order)", i, v, want)
				}
			}
		})
	}
}

// TestLatestConcurrentConsumer races a consumer that yields between
// receives against a fast producer: the updates received rise strictly (in
// order, none twice) and end with the last one sent.
func TestLatestConcurrentConsumer(t *testing.T) {
	const n = 20000
	ch := make(chan int, 1)
	send := Latest(ch)
	var got []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range ch {
			got = append(got, v)
			runtime.Gosched()
		}
	}()
	for i := 1; i <= n; i++ {
		send(i)
	}
	close(ch)
	<-done
	if len(got) == 0 || got[len(got)-1] != n {
		t.Fatalf("the last update received is not %d (got %d updates)", n, len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("update %d after %d: out of order or repeated", got[i], got[i-1])
		}
	}
}

// TestLatestUnbuffered checks that an unbuffered channel never blocks the
// producer: with nobody receiving, every update is dropped.
func TestLatestUnbuffered(t *testing.T) {
	ch := make(chan int)
	send := Latest(ch)
	for i := 0; i < 10; i++ {
		send(i)
	}
	select {
	case v := <-ch:
		t.Fatalf("received %d with no receiver waiting when it was sent", v)
	default:
	}
}
