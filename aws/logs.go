package aws

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/perch-dev/perch/model"
)

// logsAPI is the part of CloudWatch Logs perch uses.
type logsAPI interface {
	StartQuery(ctx context.Context, in *cloudwatchlogs.StartQueryInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StartQueryOutput, error)
	GetQueryResults(ctx context.Context, in *cloudwatchlogs.GetQueryResultsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetQueryResultsOutput, error)
	StopQuery(ctx context.Context, in *cloudwatchlogs.StopQueryInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StopQueryOutput, error)
}

// DefaultErrorRegex is what makes a line error-like.
const DefaultErrorRegex = `(?i)(error|exception|panic|timeout|retry)`

// LogQueryLimit is the most lines one query returns (Logs Insights' own
// limit); a side that logs more in the window is shown as at least that.
const LogQueryLimit = 10000

// LogSide is where one side's lines are: its log groups, and the streams
// in them that are its own (a regex on @logStream, "" for all).
type LogSide struct {
	Groups       []string
	StreamFilter string
}

// LogsOptions configure the log watch.
type LogsOptions struct {
	Sides [2]LogSide
	// ErrorRegex picks the error-like lines; default DefaultErrorRegex.
	ErrorRegex string
}

// LambdaLogSides are a weighted alias's sides: one log group, each
// version's streams told apart by the [VERSION] in their names.
func LambdaLogSides(function, stableVersion, canaryVersion string) [2]LogSide {
	group := "/aws/lambda/" + function
	side := func(v string) LogSide {
		return LogSide{Groups: []string{group}, StreamFilter: `\[` + regexp.QuoteMeta(v) + `\]`}
	}
	return [2]LogSide{side(stableVersion), side(canaryVersion)}
}

// StreamPrefixFilter is the @logStream filter for streams starting with
// prefix (an ECS service's awslogs-stream-prefix, say).
func StreamPrefixFilter(prefix string) string {
	if prefix == "" {
		return ""
	}
	return "^" + regexp.QuoteMeta(prefix)
}

// Logs runs the sides' Logs Insights queries.
type Logs struct {
	api  logsAPI
	opts LogsOptions
}

// NewLogs checks the options and builds the reader on a client from cfg.
func NewLogs(cfg awssdk.Config, opts LogsOptions) (*Logs, error) {
	if opts.ErrorRegex == "" {
		opts.ErrorRegex = DefaultErrorRegex
	}
	if _, err := regexp.Compile(opts.ErrorRegex); err != nil {
		return nil, fmt.Errorf("log error regex %q: %w", opts.ErrorRegex, err)
	}
	for _, side := range model.Sides {
		s := opts.Sides[side]
		if len(s.Groups) == 0 {
			return nil, fmt.Errorf("logs: no log group for the %s side", side)
		}
		if _, err := regexp.Compile(s.StreamFilter); err != nil {
			return nil, fmt.Errorf("logs: %s stream filter %q: %w", side, s.StreamFilter, err)
		}
	}
	return &Logs{api: cloudwatchlogs.NewFromConfig(cfg), opts: opts}, nil
}

// regexLiteral writes re as a Logs Insights /regex/: a / inside must be
// escaped.
func regexLiteral(re string) string {
	return "/" + strings.ReplaceAll(re, "/", `\/`) + "/"
}

// QueryString is the query perch runs for side: the error-like lines of
// its streams, newest first, up to LogQueryLimit. Grouping into patterns
// is perch's own (model.GroupLines), so it is the same whatever AWS's
// pattern command would make of them.
func (l *Logs) QueryString(side model.Side) string {
	var b strings.Builder
	b.WriteString("fields @timestamp, @logStream, @message")
	if f := l.opts.Sides[side].StreamFilter; f != "" {
		b.WriteString("\n| filter @logStream like " + regexLiteral(f))
	}
	b.WriteString("\n| filter @message like " + regexLiteral(l.opts.ErrorRegex))
	fmt.Fprintf(&b, "\n| sort @timestamp desc\n| limit %d", LogQueryLimit)
	return b.String()
}

// StartQuery starts side's query over [from, to).
func (l *Logs) StartQuery(ctx context.Context, side model.Side, from, to time.Time) (string, error) {
	out, err := l.api.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{
		LogGroupNames: l.opts.Sides[side].Groups,
		StartTime:     awssdk.Int64(from.Unix()),
		EndTime:       awssdk.Int64(to.Unix()),
		QueryString:   awssdk.String(l.QueryString(side)),
		Limit:         awssdk.Int32(LogQueryLimit),
	})
	if err != nil {
		return "", fmt.Errorf("start the %s side's log query: %w", side, err)
	}
	return awssdk.ToString(out.QueryId), nil
}

// QueryResults reads a query; when it is complete, its lines grouped.
func (l *Logs) QueryResults(ctx context.Context, id string) (model.LogQueryResult, error) {
	out, err := l.api.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: awssdk.String(id)})
	if err != nil {
		return model.LogQueryResult{}, fmt.Errorf("read log query %s: %w", id, err)
	}
	switch out.Status {
	case cwltypes.QueryStatusComplete:
	case cwltypes.QueryStatusScheduled, cwltypes.QueryStatusRunning:
		return model.LogQueryResult{}, nil
	default:
		return model.LogQueryResult{}, fmt.Errorf("log query %s ended %s", id, out.Status)
	}
	lines := MessagesOf(out.Results)
	res := model.LogQueryResult{Done: true, Patterns: model.GroupLines(lines), Lines: len(lines), Truncated: len(lines) >= LogQueryLimit}
	if out.Statistics != nil {
		res.BytesScanned = out.Statistics.BytesScanned
	}
	return res, nil
}

// MessagesOf picks each result row's @message.
func MessagesOf(rows [][]cwltypes.ResultField) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		for _, f := range r {
			if awssdk.ToString(f.Field) == "@message" {
				out = append(out, awssdk.ToString(f.Value))
			}
		}
	}
	return out
}

// StopQuery stops a running query.
func (l *Logs) StopQuery(ctx context.Context, id string) error {
	if _, err := l.api.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: awssdk.String(id)}); err != nil {
		return fmt.Errorf("stop log query %s: %w", id, err)
	}
	return nil
}
