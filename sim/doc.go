// Package sim is perch's simulated AWS: one loopback HTTP endpoint that
// speaks the real wire protocols of ELBv2, STS, CloudWatch, Lambda,
// CodeDeploy, ECS, CloudWatch Logs and the Account API, seeded from a
// scenario, with traffic models that publish ALB and Lambda metrics from
// the weights the rule or alias actually has (and the lines each side
// logs, drawn from them).
//
// Requests are routed by the SigV4 credential scope's service name, the
// same way AWS's endpoints are split; signatures are not checked. All state
// sits behind one mutex, held for the whole of a request, so every request
// sees a consistent world and the traffic models can be advanced lazily to
// the clock's now before each one.
//
// # Layout
//
// Each service is a package of its own that reads as that service:
// elbv2 (with the ALB traffic model), cloudwatch, lambda (with the Lambda
// traffic model), codedeploy, ecs, logs, sts and account. They depend only on the
// core packages and never on each other:
//
//   - awsproto: the Service interface and its Endpoint, the router, the
//     awsQuery tree and XML writer, the error shapes;
//   - scenario: the scenario language, its validation, the built-in
//     scenarios, the fault vocabulary and the manifest;
//   - metrics: the metric store and datums; traffic: the publishing
//     schedule, routing history and samplers the traffic models share;
//   - ids: deterministic IDs.
//
// This package is the Sim: it builds the services and wires them
// (wiring.go, the one place where services meet), seeds the scenario in a
// fixed order (seed.go), serves and routes (server.go), arms faults
// (faults.go), runs drifts (drift.go) and offers the in-process test hooks
// (hooks.go). A service that needs another declares a narrow interface in
// its own package (codedeploy/deps.go: LoadBalancers, Functions, Alarms,
// Traffic); wiring.go passes the other services in, and asserts at compile
// time that they satisfy it.
//
// # Adding a service
//
// ecs (awsJson1.1, X-Amz-Target AmazonEC2ContainerServiceV20141113.*)
// and CloudWatch Logs (sim/logs) were added this way: ecs moves ALB rule
// weights and reads alarm states through ecs/deps.go, and advances with
// CodeDeploy in time order (advanceLocked). For a service NAME:
//
//  1. Create sim/NAME with a Service type implementing awsproto.Service:
//     Endpoint (its stats name, e.g. "ecs"; its SigV4 signing name; the
//     markers of unsigned requests, here TargetPrefixes
//     "AmazonEC2ContainerServiceV20141113."), Operation and Serve. Answer
//     errors with awsproto's shapes (for awsJson1.1 as codedeploy's writeCD
//     does). Depend only on the core packages.
//  2. Declare what it needs of other services as small interfaces in its
//     own deps.go, in its own terms. ECS needs what CodeDeploy needs of
//     ELBv2 and CloudWatch: RuleWeights and ShiftRule (or SetRuleWeights
//     for a change at the traffic model's now), AlarmStatesAt, and a
//     Traffic to bring the models to the time of a scheduled change.
//     Methods the services already have satisfy them; add one to the
//     owning service only when nothing there fits.
//  3. If scenarios script it, add its section to scenario.Scenario with its
//     validation (scenario/NAME.go), and a Seed method on the service that
//     takes its section and returns the manifest targets it created.
//  4. Wire it in wiring.go: build it in build with its dependencies and add
//     it to the services list (which makes the router and the stats see
//     it); add the compile-time interface checks. If it runs on the clock,
//     advance it in advanceLocked; if it seeds, call its Seed in seedScenario
//     in manifest order, and create any alarms it names there too.
//  5. Add its stats name to scenario's fault service names (and to
//     FaultServices if `perch sim --fault` should offer it), and to
//     scenario.throttleCode and friends if its error codes differ.
//  6. Test it in its package: unit tests on fakes of its dependencies, and
//     SDK tests through simtest, as codedeploy does.
package sim
