module github.com/perch-dev/perch

go 1.26.8
