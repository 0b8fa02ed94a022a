package bench

import (
	"context"
	"fmt"
	"strconv"
)

// sessionPlan opens session i of a connect run: on Plop, as seeded user i (mod users) with
// its user queue and its group room; on another broker, with one topic standing for the
// user queue and one for the room.
type sessionPlan struct {
	open func(ctx context.Context, i int) (*stompSession, error)
}

// userQueue and roomTopic are Plop's destinations.
const userQueueDest = "/user/queue/events"

func roomTopicDest(roomID string) string { return "/topic/rooms." + roomID }

func planSessions(ctx context.Context, cfg Config, nodes cluster, res *Result) (*sessionPlan, error) {
	if nodes == nil {
		wsURL, err := targetWSURL(cfg.Target)
		if err != nil {
			return nil, err
		}
		run := randomHex(3)
		return &sessionPlan{open: func(ctx context.Context, i int) (*stompSession, error) {
			s, err := dialStomp(ctx, stompDial{wsURL: wsURL, login: cfg.Login, passcode: cfg.Passcode, vhost: "/", heartBeat: cfg.HeartBeat})
			if err != nil {
				return nil, err
			}
			return s, subscribeBoth(ctx, s,
				fmt.Sprintf("/topic/bench.%s.user.%d", run, i),
				fmt.Sprintf("/topic/bench.%s.room.%d", run, i/cfg.RoomSize))
		}}, nil
	}
	sd, err := newSeeder(cfg, nodes.first())
	if err != nil {
		return nil, err
	}
	defer sd.close()
	res.Seed = &sd.stats
	users, err := sd.users(ctx, cfg.Users)
	if err != nil {
		return nil, err
	}
	roomOf, rooms, err := seedGroups(ctx, sd, users, cfg.RoomSize)
	if err != nil {
		return nil, err
	}
	return &sessionPlan{open: func(ctx context.Context, i int) (*stompSession, error) {
		u := i % len(users)
		s, err := dialStomp(ctx, stompDial{wsURL: nodes.pick(i).wsURL, token: users[u].Token, heartBeat: cfg.HeartBeat})
		if err != nil {
			return nil, err
		}
		return s, subscribeBoth(ctx, s, userQueueDest, roomTopicDest(rooms[roomOf[u]]))
	}}, nil
}

// subscribeBoth subscribes s to a user destination and a room destination; on failure it
// closes s.
func subscribeBoth(ctx context.Context, s *stompSession, userDest, roomDest string) error {
	for i, d := range []string{userDest, roomDest} {
		if err := s.subscribe(ctx, "s"+strconv.Itoa(i), d); err != nil {
			s.abort()
			<-s.done
			return fmt.Errorf("subscribe %s: %w", d, err)
		}
	}
	return nil
}
