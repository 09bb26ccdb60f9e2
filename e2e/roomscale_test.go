package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestRoomMessageScale measures a message to a 500-member room: a real
// rendezvous with its lobby, one real sending daemon and 500 members as
// protocol clients with prekeys. It logs the sender's time from
// `lanchat send '#lobby' TEXT` until every copy is committed by the
// server (the message is sent and the outbox empty) and the server's
// requests for the message by operation. It only measures; set
// LANCHAT_SCALE=1 to run it:
//
//	LANCHAT_SCALE=1 go test -count=1 -run TestRoomMessageScale -v ./e2e/
func TestRoomMessageScale(t *testing.T) {
	if os.Getenv("LANCHAT_SCALE") == "" {
		t.Skip("set LANCHAT_SCALE=1 to measure a message to a 500-member room")
	}
	const n = 500
	metrics := freeAddr(t)
	srv := startRendezvous(t, freeAddr(t), t.TempDir(), "--lobby", "lobby", "--metrics", metrics,
		"--max-conns-per-addr", "2000", "--register-rate", "2000", "--room-members", "1000")

	start := time.Now()
	members := make([]*peer, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range members {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p := newPeer(t, fmt.Sprintf("member%03d", i))
			p.register(t, srv)
			go func() { // drain its events, as a daemon does
				for range p.c.Events() {
				}
			}()
			members[i] = p
		})
	}
	wg.Wait()
	t.Logf("%d members registered: %v", n, time.Since(start))

	alice := newUser(t, srv, "alice")
	alice.start(t)
	t.Cleanup(func() { alice.stop(t) })
	alice.register(t)
	eventually(t, 60*time.Second, func() (bool, string) {
		var gm api.GroupMembers
		alice.mustJSON(t, &gm, "room", "members", "lobby")
		return len(gm.Members) == n+1, fmt.Sprintf("alice sees %d lobby members", len(gm.Members))
	})

	var times []time.Duration
	for round := range 4 {
		before := scrapeRequests(t, metrics)
		text := fmt.Sprintf("hello, room, round %d", round)
		t0 := time.Now()
		var res api.SendResult
		alice.mustJSON(t, &res, "send", "#lobby", text)
		if len(res.Copies) != n {
			t.Fatalf("round %d: %d copies, want %d", round, len(res.Copies), n)
		}
		// Copies the send could not settle in its time go on in the
		// outbox: the time runs until it is empty.
		deadline := time.Now().Add(5 * time.Minute)
		for {
			var st api.Status
			alice.mustJSON(t, &st, "status")
			if st.Outbox == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d copies still in the outbox", round, st.Outbox)
			}
			time.Sleep(50 * time.Millisecond)
		}
		took := time.Since(t0)
		after := scrapeRequests(t, metrics)
		var ops []string
		for op, c := range after {
			if d := c - before[op]; d > 0 {
				ops = append(ops, fmt.Sprintf("%s=%.0f", op, d))
			}
		}
		slices.Sort(ops)
		cache := "warm key cache"
		if round == 0 {
			cache = "cold key cache"
		} else {
			times = append(times, took)
		}
		t.Logf("round %d (%s): send replied %q; sender's time until the outbox is empty %v; server requests: %s", round, cache, res.Via, took, strings.Join(ops, " "))
	}
	slices.Sort(times)
	t.Logf("warm: median %v, spread %v–%v", times[len(times)/2], times[0], times[len(times)-1])
}

// scrapeRequests reads the server's requests_total by operation.
func scrapeRequests(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, "requests_total{") || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.Index(line, `op="`)
		j := strings.LastIndexByte(line, ' ')
		if i < 0 || j < 0 {
			continue
		}
		op := line[i+4:]
		op = op[:strings.IndexByte(op, '"')]
		v, err := strconv.ParseFloat(line[j+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[op] += v
	}
	return out
}
