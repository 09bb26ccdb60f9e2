package transfer

import (
	"slices"
	"testing"
)

// TestScheduleBlocks checks that only the missing chunks are scheduled,
// in blocks of at most the size asked, in order.
func TestScheduleBlocks(t *testing.T) {
	done := make([]bool, 20)
	for _, i := range []int{0, 1, 5, 19} {
		done[i] = true
	}
	s := newSchedule(done, 4)
	var got [][2]int
	for {
		b, ok := s.take()
		if !ok {
			break
		}
		got = append(got, b)
	}
	want := [][2]int{{2, 5}, {6, 10}, {10, 14}, {14, 18}, {18, 19}}
	if !slices.Equal(got, want) {
		t.Fatalf("blocks %v, want %v", got, want)
	}
	if s.left() != 16 {
		t.Fatalf("%d chunks left, want 16", s.left())
	}
}

// TestScheduleSharesAndRecovers runs three holders over one schedule,
// taking turns: holder 2 fails after the first chunk of its first
// block and gives back the rest. Every chunk is fetched exactly once,
// and the others share the given-back chunks.
func TestScheduleSharesAndRecovers(t *testing.T) {
	const n = 100
	s := newSchedule(make([]bool, n), 3)
	count := make([]int, n)
	by := map[int]int{}
	live := []bool{true, true, true}
	for turn := 0; s.left() > 0; turn++ {
		if turn > 10*n {
			t.Fatal("schedule does not finish")
		}
		h := turn % 3
		if !live[h] {
			continue
		}
		b, ok := s.take()
		if !ok {
			t.Fatalf("nothing to take with %d chunks left", s.left())
		}
		for i := b[0]; i < b[1]; i++ {
			if h == 2 && i > b[0] {
				s.giveBack(i, b[1])
				live[h] = false
				break
			}
			count[i]++
			by[h]++
			s.fetched()
		}
	}
	for i, c := range count {
		if c != 1 {
			t.Fatalf("chunk %d fetched %d times", i, c)
		}
	}
	if by[0] < 40 || by[1] < 40 || by[2] != 1 {
		t.Fatalf("chunks by holder %v, want about half each from 0 and 1, one from 2", by)
	}
}
