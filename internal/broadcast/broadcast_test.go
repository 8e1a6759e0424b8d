package broadcast

import (
	"sync"
	"testing"
)

func TestSubscriberHoldsTheNewest(t *testing.T) {
	var b Latest[int]
	ch, cancel := b.Subscribe(1)
	if got := <-ch; got != 1 {
		t.Fatalf("first value %d, want the current one", got)
	}
	b.Publish(2)
	b.Publish(3) // the reader is behind: 2 is replaced
	if got := <-ch; got != 3 {
		t.Fatalf("got %d, want the newest (3)", got)
	}
	select {
	case v := <-ch:
		t.Fatalf("stale value %d left behind", v)
	default:
	}
	cancel()
	b.Publish(4)
	if v, ok := <-ch; ok {
		t.Fatalf("delivered %d after cancel", v)
	}
}

func TestPublishNeverWaitsForReaders(t *testing.T) {
	var b Latest[int]
	chs := make([]<-chan int, 3)
	for i := range chs {
		chs[i], _ = b.Subscribe(0)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				b.Publish(w*100 + i)
			}
		}()
	}
	wg.Wait()
	for i, ch := range chs {
		if len(ch) != 1 {
			t.Errorf("subscriber %d holds %d values, want 1", i, len(ch))
		}
	}
}

// Cancel closes the channel, so a reader waiting on it returns, and may
// be called twice; a Publish after it reaches no one.
func TestCancelClosesTheChannel(t *testing.T) {
	var b Latest[int]
	ch, cancel := b.Subscribe(1)
	<-ch
	cancel()
	cancel()
	b.Publish(2)
	if v, ok := <-ch; ok {
		t.Fatalf("read %d from a cancelled subscription", v)
	}
}
