package transfer

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultProgressInterval is how often progress is reported unless
// configured otherwise.
const DefaultProgressInterval = 250 * time.Millisecond

// rateWindow is the time constant of the smoothed rate: it follows a
// change of speed within a few seconds without jumping at every report.
const rateWindow = 2 * time.Second

// Status is one progress report of a transfer, for the daemon's
// progress events.
type Status struct {
	ID      string // transfer id
	Peer    string // the contact on the other side
	Sending bool   // true on the sender's side
	// Bytes counts the bytes done, those verified in an earlier attempt
	// included; Total is the offer's size.
	Bytes, Total int64
	// Rate is the smoothed speed in bytes per second over the last
	// seconds of this attempt.
	Rate float64
	// Files counts the files completed (by the receiver) or sent;
	// FilesTotal is the offer's number of files.
	Files, FilesTotal int
	// Final marks the last report of this attempt; Err says how it ended
	// (nil: completed).
	Final bool
	Err   error
}

// meter counts a transfer's bytes and reports them every interval from
// a goroutine of its own, and once more when stopped.
type meter struct {
	fn       func(Status)
	interval time.Duration
	base     Status

	moved atomic.Int64 // bytes moved in this attempt
	done  atomic.Int64 // bytes verified before it, or found held and matching
	files atomic.Int64

	stopc chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	// Only the reporting goroutine, then stop, touch these.
	lastMoved int64
	lastTime  time.Time
	rate      float64
}

// startMeter starts reporting to fn (nil: count only). done and files are
// what is already complete.
func startMeter(fn func(Status), interval time.Duration, base Status, done int64, files int) *meter {
	if interval <= 0 {
		interval = DefaultProgressInterval
	}
	m := &meter{fn: fn, interval: interval, base: base, stopc: make(chan struct{}), lastTime: time.Now()}
	m.done.Store(done)
	m.files.Store(int64(files))
	if fn != nil {
		m.wg.Go(m.run)
	}
	return m
}

func (m *meter) add(n int64) { m.moved.Add(n) }
func (m *meter) addFile()    { m.files.Add(1) }

// addDone counts bytes found done without moving them, which the rate
// leaves out.
func (m *meter) addDone(n int64) { m.done.Add(n) }

func (m *meter) run() {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-m.stopc:
			return
		case now := <-t.C:
			m.fn(m.sample(now))
		}
	}
}

// sample updates the smoothed rate and returns the current status.
func (m *meter) sample(now time.Time) Status {
	b := m.moved.Load()
	if dt := now.Sub(m.lastTime); dt > 0 {
		inst := float64(b-m.lastMoved) / dt.Seconds()
		alpha := 1 - math.Exp(-dt.Seconds()/rateWindow.Seconds())
		if m.rate == 0 {
			alpha = 1
		}
		m.rate += alpha * (inst - m.rate)
	}
	m.lastMoved, m.lastTime = b, now
	s := m.base
	s.Bytes, s.Rate, s.Files = m.done.Load()+b, m.rate, int(m.files.Load())
	return s
}

// stop ends reporting with a final status carrying err.
func (m *meter) stop(err error) {
	m.once.Do(func() {
		close(m.stopc)
		m.wg.Wait()
		if m.fn != nil {
			s := m.sample(time.Now())
			s.Final, s.Err = true, err
			m.fn(s)
		}
	})
}
