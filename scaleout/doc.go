// Package scaleout tests Plop as operators run it past one machine: several `plop serve`
// processes sharing one MariaDB and one Redis, behind nginx doing round-robin and WebSocket
// upgrade. The tests talk to the cluster through nginx with the public client only, and
// break it on purpose: a node killed with SIGKILL in the middle of traffic, Redis and
// MariaDB restarted under load.
//
// Each test starts its own private Redis, MariaDB and nginx on free loopback ports, so that
// killing them disturbs nothing else on the machine. The tests skip when redis-server,
// mariadbd, mariadb-install-db or nginx is missing, and fail instead when
// PLOP_TEST_REQUIRE_SERVICES=1. They drive real processes: run them without -race for
// speed (go test ./scaleout); the race detector adds nothing to the processes under test.
package scaleout
