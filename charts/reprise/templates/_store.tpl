{{/*
The snapshot store's environment (src/store/open.ts): nothing for the volume store; with
store.s3.bucket set, REPRISE_STORE and the S3 settings, keys from store.s3.credentials.existingSecret
or else the SDK's default chain (the ServiceAccount's cloud identity: IRSA, GKE workload identity).
*/}}
{{- define "reprise.storeEnv" -}}
{{- with .Values.store.s3 }}
{{- if .bucket }}
- name: REPRISE_STORE
  value: {{ printf "s3://%s/%s" .bucket (trimAll "/" .prefix) | trimSuffix "/" | quote }}
{{- if .endpoint }}
- name: REPRISE_S3_ENDPOINT
  value: {{ .endpoint | quote }}
{{- end }}
- name: AWS_REGION
  value: {{ .region | quote }}
- name: REPRISE_S3_RETRY_SECONDS
  value: {{ .retrySeconds | quote }}
{{- with .credentials.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.store.s3.credentials.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.store.s3.credentials.secretAccessKeyKey }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
