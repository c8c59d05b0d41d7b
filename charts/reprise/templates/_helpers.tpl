{{/* Names, labels and small values shared by the templates. */}}

{{- define "reprise.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix; trimmed to leave room for the longest suffix ("-orchestrator"). */}}
{{- define "reprise.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "reprise.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "reprise.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: reprise
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "operator"). */}}
{{- define "reprise.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reprise.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects. */}}
{{- define "reprise.componentLabels" -}}
{{ include "reprise.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "reprise.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "reprise.sidecarImage" -}}
{{- $repo := default .Values.image.repository .Values.sidecar.image.repository }}
{{- printf "%s:%s" $repo (default (default .Chart.AppVersion .Values.image.tag) .Values.sidecar.image.tag) }}
{{- end }}

{{- define "reprise.operatorServiceAccount" -}}
{{- default (printf "%s-operator" (include "reprise.fullname" .)) .Values.serviceAccount.operatorName }}
{{- end }}

{{- define "reprise.forwarderServiceAccount" -}}
{{- default (printf "%s-forwarder" (include "reprise.fullname" .)) .Values.serviceAccount.forwarderName }}
{{- end }}

{{/* The operator's Service: the webhooks' clientConfig and the certificate's DNS names. */}}
{{- define "reprise.webhookService" -}}
{{- printf "%s-operator" (include "reprise.fullname" .) }}
{{- end }}

{{- define "reprise.webhookSecret" -}}
{{- printf "%s-webhook-tls" (include "reprise.fullname" .) }}
{{- end }}

{{- define "reprise.inspectorSecret" -}}
{{- default (printf "%s-inspector" (include "reprise.fullname" .)) .Values.inspector.existingSecret }}
{{- end }}

{{- define "reprise.storeClaim" -}}
{{- .Values.forwarder.persistence.existingClaim | default (printf "%s-store" (include "reprise.fullname" .)) }}
{{- end }}

{{/*
Non-empty when the operator can mount the store too (read-only): only a ReadWriteMany claim can
be mounted by pods on other nodes. Otherwise the operator runs without it and does not check
that a TrafficReplay's snapshot exists (the replay fails on it instead).
*/}}
{{- define "reprise.operatorReadsStore" -}}
{{- $p := .Values.forwarder.persistence }}
{{- if and $p.enabled (has "ReadWriteMany" $p.accessModes) }}true{{ end }}
{{- end }}

{{/* In-cluster URL of the forwarder, given to sidecars and the orchestrator. */}}
{{- define "reprise.forwarderUrl" -}}
{{- printf "http://%s-forwarder.%s.svc:%d" (include "reprise.fullname" .) .Release.Namespace (int .Values.forwarder.port) }}
{{- end }}

{{/* Environment every Reprise process shares: where it runs and how it logs. */}}
{{- define "reprise.commonEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: REPRISE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: REPRISE_LOG_JSON
  value: "1"
{{- end }}

{{/* TEMPORAL_* variables (src/temporal/connect.ts reads them) and the volume they point into. */}}
{{- define "reprise.temporalEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- if .Values.temporal.tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- with .Values.temporal.tls.existingSecret }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/reprise/temporal-tls/ca.crt
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/reprise/temporal-tls/tls.crt
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/reprise/temporal-tls/tls.key
{{- end }}
{{- with .Values.temporal.apiKey.existingSecret }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.temporal.apiKey.key }}
{{- end }}
{{- end }}

{{/* The Temporal TLS Secret's mount and volume; callers include them only when it is set. */}}
{{- define "reprise.temporalVolumeMount" -}}
- name: temporal-tls
  mountPath: /etc/reprise/temporal-tls
  readOnly: true
{{- end }}

{{- define "reprise.temporalVolume" -}}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.existingSecret }}
{{- end }}

{{/* Scheduling and pod-level fields of a component: (dict "ctx" $ "c" .Values.operator). */}}
{{- define "reprise.podScheduling" -}}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .ctx.Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The fields every admission webhook of this chart shares. */}}
{{- define "reprise.webhookCommon" -}}
admissionReviewVersions: [v1]
sideEffects: None
matchPolicy: Equivalent
timeoutSeconds: {{ .ctx.Values.webhook.timeoutSeconds }}
clientConfig:
  service:
    name: {{ include "reprise.webhookService" .ctx }}
    namespace: {{ .ctx.Release.Namespace }}
    path: {{ .path }}
    port: 443
  {{- with .caBundle }}
  caBundle: {{ . }}
  {{- end }}
{{- end }}
{{- define "reprise.trafficReplayRules" -}}
rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [replay.reprise.dev]
    apiVersions: [v1alpha1]
    resources: [trafficreplays]
    scope: Namespaced
{{- end }}
