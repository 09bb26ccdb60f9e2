package history

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkMessagePath stores messages the way a conversation does, by 1
// and by several writers at once: the sender's side (AddOutgoing, then
// Done once the peer answered) and the receiver's (AddIncoming). It
// reports the durable commits (fsyncs) per message. The checkpoint=off
// rows turn SQLite's automatic WAL checkpoint off, to show what the
// checkpoints inside commits cost.
//
//	go test -run '^$' -bench MessagePath -benchtime 2000x ./peer/history/
func BenchmarkMessagePath(b *testing.B) {
	for _, side := range []string{"send", "receive"} {
		for _, ckpt := range []bool{true, false} {
			for _, writers := range []int{1, 8} {
				name := fmt.Sprintf("%s/writers=%d", side, writers)
				if !ckpt {
					name += "/checkpoint=off"
				}
				b.Run(name, func(b *testing.B) { benchMessagePath(b, side, writers, ckpt) })
			}
		}
	}
}

func benchMessagePath(b *testing.B, side string, writers int, ckpt bool) {
	s, _ := openTest(b)
	ctx := context.Background()
	if !ckpt {
		// The writer pool is one connection: the pragma stays on it.
		if _, err := s.w.Exec(`PRAGMA wal_autocheckpoint=0`); err != nil {
			b.Fatal(err)
		}
	}
	body := string(make([]byte, 100))
	for i := range len(body) {
		body = body[:i] + "x" + body[i+1:]
	}
	before := s.Commits()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for {
				n := int(next.Add(1))
				if n > b.N {
					return
				}
				var err error
				if side == "send" {
					_, err = s.AddOutgoing(ctx, out(n, Direct("bob"), body, 0), []string{"bob"})
					if err == nil {
						err = s.Done(ctx, id(n), "bob", ViaDirect)
					}
				} else {
					_, err = s.AddIncoming(ctx, in(n, "alice", body, 0))
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	after := s.Commits()
	b.ReportMetric(float64(after.Synced-before.Synced)/float64(b.N), "fsyncs/msg")
	b.ReportMetric(float64(after.Commits-before.Commits)/float64(b.N), "commits/msg")
}
