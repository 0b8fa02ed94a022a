package bench

// seqSet is a set of message seqs (1, 2, 3 ...) as a bitmap.
type seqSet struct {
	bits []uint64
	n    int
	pre  int64 // 1..pre are all in the set
}

// add adds seq and reports whether it was there already.
func (s *seqSet) add(seq int64) (dup bool) {
	if seq < 1 {
		return false
	}
	w, b := int(seq/64), uint(seq%64)
	for w >= len(s.bits) {
		s.bits = append(s.bits, 0)
	}
	if s.bits[w]&(1<<b) != 0 {
		return true
	}
	s.bits[w] |= 1 << b
	s.n++
	for s.has(s.pre + 1) {
		s.pre++
	}
	return false
}

// has reports whether seq is in the set.
func (s *seqSet) has(seq int64) bool {
	w, b := int(seq/64), uint(seq%64)
	return seq >= 1 && w < len(s.bits) && s.bits[w]&(1<<b) != 0
}

// prefix returns the largest k such that 1..k are all in the set.
func (s *seqSet) prefix() int64 { return s.pre }
