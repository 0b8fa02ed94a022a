package bench

import "context"

// seedGroups splits users into consecutive groups of size (the last one may be smaller),
// makes each group's first user friends with the others, and has it create the group room.
// It returns the room of each user, by user index, and the room ids.
func seedGroups(ctx context.Context, sd *seeder, users []*user, size int) (roomOf []int, rooms []string, err error) {
	var pairs [][2]int
	groups := (len(users) + size - 1) / size
	roomOf = make([]int, len(users))
	for g := range groups {
		lo, hi := g*size, min(len(users), (g+1)*size)
		for i := lo; i < hi; i++ {
			roomOf[i] = g
			if i > lo {
				pairs = append(pairs, [2]int{lo, i})
			}
		}
	}
	if err := sd.friendships(ctx, users, pairs); err != nil {
		return nil, nil, err
	}
	rooms, err = sd.rooms(ctx, groups, func(g int) (*user, []string, bool) {
		lo, hi := g*size, min(len(users), (g+1)*size)
		others := make([]string, 0, hi-lo-1)
		for _, u := range users[lo+1 : hi] {
			others = append(others, u.ID)
		}
		return users[lo], others, true
	})
	return roomOf, rooms, err
}
