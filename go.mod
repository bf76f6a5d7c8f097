module github.com/chathub-operator-worker/worker

go 1.26.0

require github.com/cenkalti/backoff/v4 v4.3.0

require go.uber.org/goleak v1.3.0
