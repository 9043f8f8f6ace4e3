package batch

import "strings"

// Closest returns the name in names nearest to word, compared without
// case, when it is at most two edits away (an insertion, a deletion, a
// substitution or a swap of neighbours counts one), or one edit for a
// word of up to four characters; "" when none is that near. Ties go to
// the earlier name. It serves "did you mean" hints.
func Closest(word string, names []string) string {
	w := strings.ToLower(word)
	most := 2
	if len([]rune(w)) <= 4 {
		most = 1
	}
	best, bestD := "", most+1
	for _, n := range names {
		if d := editDistance(w, strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// counted in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j]; three rows kept.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
