// Package broadcast fans snapshots out to any number of viewers, shared by
// the rollout engine and the recording player.
package broadcast

import "sync"

// Latest hands each published value to every subscriber, holding only the
// newest per subscriber: a slow reader misses intermediate values, never
// the newest, and a publisher never waits for a reader. The zero value is
// ready to use.
//
// Callers that keep the current value under their own lock should call
// Subscribe and Publish with that lock held, so that a subscriber cannot
// receive an older value after a newer one.
type Latest[T any] struct {
	mu   sync.Mutex
	subs map[int]chan T
	next int
}

// Subscribe returns a channel that holds cur until the next Publish, and
// a cancel func that stops deliveries to it and closes it, so that a
// reader waiting on it returns. Cancel may be called more than once.
func (b *Latest[T]) Subscribe(cur T) (<-chan T, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]chan T{}
	}
	id := b.next
	b.next++
	ch := make(chan T, 1)
	ch <- cur
	b.subs[id] = ch
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[id]; ok {
			// Publish sends only under b.mu to channels still listed:
			// none can reach this one after it is closed.
			delete(b.subs, id)
			close(ch)
		}
	}
}

// Publish hands v to every subscriber, replacing any value it has not
// read yet.
func (b *Latest[T]) Publish(v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- v:
		default:
			// The reader is behind: replace its stale value. Only Publish
			// and Subscribe send, both under b.mu, so the send below
			// cannot block.
			select {
			case <-ch:
			default:
			}
			ch <- v
		}
	}
}
