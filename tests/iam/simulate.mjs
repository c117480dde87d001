// Evaluates IAM requests with @cloud-copilot/iam-simulate, one JSON document per line.
//
// stdin, one per line:  {"id": ..., "principal": ARN, "action": "s3:GetObject", "resource": ARN,
//                        "account": "123456789012", "context": {key: value | [values]},
//                        "identity": {name: policy, ...}, "boundary": {name: policy, ...} | null,
//                        "resourcePolicy": policy | null, "unvalidated": false}
// "unvalidated": true skips iam-data's check of the resource type (runUnsafeSimulation); tests/iam uses it
// only for the actions its table lists in DATA_GAPS, where iam-data's copy of the Service Authorization
// Reference is wrong.
// stdout, one per line: {"id": ..., "result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "Error",
//                        "allowedBy": ["<policy name>#<statement id>", ...], "errors": ...}
import { createInterface } from 'node:readline'
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate'

const named = (policies) =>
  Object.entries(policies ?? {}).map(([name, policy]) => ({ name, policy }))

async function evaluate(input) {
  const simulation = {
    request: {
      principal: input.principal,
      action: input.action,
      resource: { resource: input.resource, accountId: input.account },
      contextVariables: input.context ?? {},
    },
    identityPolicies: named(input.identity),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }
  if (input.boundary) simulation.permissionBoundaryPolicies = named(input.boundary)
  if (input.resourcePolicy) simulation.resourcePolicy = input.resourcePolicy
  if (input.unvalidated) {
    return { id: input.id, result: runUnsafeSimulation(simulation, {}), allowedBy: [] }
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { id: input.id, result: 'Error', errors: response.errors }
  }
  const analysis = response.resultType === 'single' ? response.result.analysis : undefined
  return { id: input.id, result: response.overallResult, allowedBy: allowed(analysis) }
}

// The identity statements that allowed the request, as "<policy name>#<Sid>".
const allowed = (analysis) =>
  (analysis?.identityAnalysis?.allowStatements ?? []).map(
    (s) => `${s.policyId ?? ''}#${s.statement?.sid?.() ?? s.statement?.index?.() ?? ''}`,
  )

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let answer
  try {
    answer = await evaluate(JSON.parse(line))
  } catch (error) {
    answer = { id: null, result: 'Error', errors: String(error?.stack ?? error) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
