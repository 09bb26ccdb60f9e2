package history

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// holdGroup starts a group write that stays in its transaction until the
// returned release is called, so that the message writes made meanwhile
// queue up and share the next transaction.
func holdGroup(t *testing.T, s *Store) (release func(), done <-chan error) {
	t.Helper()
	inside := make(chan struct{})
	hold := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			close(inside)
			<-hold
			return nil
		})
	}()
	<-inside
	return func() { close(hold) }, errc
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Commits().Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", s.Commits().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMessageWritesShareCommit: messages stored, sent and received at
// once share one transaction and one fsync; each caller is answered only
// after it, and one refused (an id already used) fails alone.
func TestMessageWritesShareCommit(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, in(1, "alice", "first", 0))
	_, err := s.AddOutgoing(ctx, out(2, Direct("bob"), "to bob", 0), []string{"bob"})
	mustNil(t, err)
	before := s.Commits()

	release, leaderDone := holdGroup(t, s)
	const n = 20
	type result struct {
		ok  bool
		err error
	}
	res := make([]chan result, n+2)
	for i := range res {
		res[i] = make(chan result, 1)
	}
	for i := range n {
		go func() {
			var r result
			if i%2 == 0 {
				r.ok, r.err = s.AddIncoming(ctx, in(10+i, "alice", fmt.Sprint("in ", i), time.Duration(i)))
			} else {
				r.ok, r.err = s.AddOutgoing(ctx, out(10+i, Direct("alice"), fmt.Sprint("out ", i), time.Duration(i)), []string{"alice"})
			}
			res[i] <- r
		}()
	}
	// The id of alice's first message, claimed for another conversation.
	go func() {
		bad := in(1, "alice", "first", 0)
		bad.Conversation = Group(gid)
		ok, err := s.AddIncoming(ctx, bad)
		res[n] <- result{ok, err}
	}()
	go func() { res[n+1] <- result{err: s.Done(ctx, id(2), "bob", ViaDirect)} }()
	waitQueued(t, s, n+2)
	var c int
	mustNil(t, s.r.QueryRow(`SELECT count(*) FROM messages`).Scan(&c)) // the writer is busy
	if c != 2 {
		t.Fatalf("%d messages before the shared commit, want 2", c)
	}
	release()
	mustNil(t, <-leaderDone)
	for i := range n {
		r := <-res[i]
		if r.err != nil || !r.ok {
			t.Fatalf("write %d: inserted %v, %v", i, r.ok, r.err)
		}
	}
	if r := <-res[n]; r.ok || !strings.Contains(fmt.Sprint(r.err), ErrConflict.Error()) {
		t.Fatalf("conflicting id: inserted %v, %v; want ErrConflict", r.ok, r.err)
	}
	mustNil(t, (<-res[n+1]).err)
	after := s.Commits()
	if c := after.Commits - before.Commits; c != 2 {
		t.Fatalf("%d commits for the held write and %d queued, want 2", c, n+2)
	}
	if c := count(t, s, "messages"); c != 2+n {
		t.Fatalf("%d messages, want %d", c, 2+n)
	}
	m, err := s.Message(ctx, "self", id(2))
	mustNil(t, err)
	if m.State != StateDelivered {
		t.Fatalf("message to bob is %s after Done, want delivered", m.State)
	}
}

// TestConcurrentMessagesKeepOrder: a conversation's messages, each stored
// after the one before returned, keep that order while other
// conversations write at once and share their commits.
func TestConcurrentMessagesKeepOrder(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const n = 150
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for w := range 3 {
		wg.Go(func() {
			for i := range n {
				_, err := s.AddIncoming(ctx, in(100000*(w+1)+i, fmt.Sprint("user", w), "noise", 0))
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		// The sender's clock goes backwards: arrival order is the order.
		_, err := s.AddOutgoing(ctx, out(i, Direct("bob"), fmt.Sprint(i), -time.Duration(i)*time.Second), []string{"bob"})
		mustNil(t, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	msgs, err := s.History(ctx, Direct("bob"), n+1, "")
	mustNil(t, err)
	if len(msgs) != n {
		t.Fatalf("%d messages to bob, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m.ID != id(i) {
			t.Fatalf("message %d is %s, want %s", i, m.ID, id(i))
		}
	}
	if st := s.Commits(); st.Writes != 4*n || st.Commits > st.Writes {
		t.Fatalf("group stats %+v, want %d writes", st, 4*n)
	}
}

// crashChildEnv names the database a child of TestAcknowledgedSurvivesKill
// writes to.
const crashChildEnv = "LANCHAT_HISTORY_CRASH_CHILD"

// TestAcknowledgedSurvivesKill: a process that stores messages from
// several goroutines at once, and acknowledges each (a line on stdout)
// only once its write returned, is killed; every acknowledged message is
// there when the file is opened again, and every copy marked done.
func TestAcknowledgedSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := t.TempDir() + "/history.db"
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcknowledgedSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	mustNil(t, err)
	cmd.Stderr = os.Stderr
	mustNil(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	acked := map[string]string{}
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() {
		kind, mid, _ := strings.Cut(sc.Text(), " ")
		acked[mid] = kind
		if len(acked) == 300 {
			mustNil(t, cmd.Process.Signal(syscall.SIGKILL))
			killed = true
		}
		if time.Now().After(deadline) {
			t.Fatal("the child acknowledged too slowly")
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("the child ended by itself after %d acknowledgements", len(acked))
	}
	s, err := Open(context.Background(), path)
	mustNil(t, err)
	defer s.Close()
	for mid, kind := range acked {
		sender := "alice"
		if kind != "in" {
			sender = "self"
		}
		m, err := s.Message(context.Background(), sender, mid)
		if err != nil {
			t.Fatalf("acknowledged %s message %s lost: %v", kind, mid, err)
		}
		if kind == "done" && m.State != StateDelivered {
			t.Fatalf("message %s marked done is %s after the crash", mid, m.State)
		}
	}
}

// crashChild stores messages until killed (at most 20,000 or 30 s),
// printing each one's kind and id once stored.
func crashChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	ack := func(kind, mid string) {
		mu.Lock()
		fmt.Printf("%s %s\n", kind, mid)
		mu.Unlock()
	}
	stop := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 20000 / 6 {
				if time.Now().After(stop) {
					return
				}
				n := w*10000 + i
				if w%2 == 0 {
					if _, err := s.AddIncoming(ctx, in(n, "alice", "x", 0)); err != nil {
						fmt.Fprintln(os.Stderr, err)
						os.Exit(2)
					}
					ack("in", id(n))
					continue
				}
				if _, err := s.AddOutgoing(ctx, out(n, Direct("bob"), "y", 0), []string{"bob"}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				ack("out", id(n))
				if err := s.Done(ctx, id(n), "bob", ViaDirect); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				ack("done", id(n))
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
