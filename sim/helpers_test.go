package sim

import "time"

var epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
