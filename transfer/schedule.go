package transfer

import "sync"

// DefaultBlockChunks is how many chunks a pull asks one holder for at a
// time: big enough that a request costs little, small enough that
// several holders share a file's chunks.
const DefaultBlockChunks = 8

// schedule hands the missing chunks of a file, in blocks, to the
// holders fetching it: each takes the next block when it is done with
// its last, so a faster holder takes more. A holder that fails gives its
// block's unfetched chunks back for the others.
type schedule struct {
	mu      sync.Mutex
	blocks  [][2]int // [first, end) chunk indices not yet taken, in order
	pending int      // chunks not yet fetched, taken or not
}

// newSchedule makes the blocks, of at most per chunks, of the chunks
// not done.
func newSchedule(done []bool, per int) *schedule {
	if per < 1 {
		per = DefaultBlockChunks
	}
	s := &schedule{}
	for i := 0; i < len(done); {
		if done[i] {
			i++
			continue
		}
		j := i
		for j < len(done) && !done[j] && j-i < per {
			j++
		}
		s.blocks = append(s.blocks, [2]int{i, j})
		s.pending += j - i
		i = j
	}
	return s
}

// take returns the next block, or false when none is left to take.
func (s *schedule) take() ([2]int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.blocks) == 0 {
		return [2]int{}, false
	}
	b := s.blocks[0]
	s.blocks = s.blocks[1:]
	return b, true
}

// fetched records that one chunk was fetched and verified.
func (s *schedule) fetched() {
	s.mu.Lock()
	s.pending--
	s.mu.Unlock()
}

// giveBack returns the chunks [first, end) of a block a holder failed
// to fetch, ahead of the others, for another holder.
func (s *schedule) giveBack(first, end int) {
	if first >= end {
		return
	}
	s.mu.Lock()
	s.blocks = append([][2]int{{first, end}}, s.blocks...)
	s.mu.Unlock()
}

// left returns the chunks not yet fetched.
func (s *schedule) left() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}
