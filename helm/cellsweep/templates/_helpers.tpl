{{/* Names and labels ------------------------------------------------------- */}}

{{- define "cellsweep.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cellsweep.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cellsweep.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "trainer"). */}}
{{- define "cellsweep.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cellsweep.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "cellsweep.labels" -}}
helm.sh/chart: {{ include "cellsweep.chart" .ctx }}
{{ include "cellsweep.selectorLabels" . }}
app.kubernetes.io/part-of: cellsweep
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{- define "cellsweep.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cellsweep.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Images: (dict "ctx" $ "image" .Values.image.trainer) */}}
{{- define "cellsweep.image" -}}
{{- if .image.digest -}}
{{ .image.repository }}@{{ .image.digest }}
{{- else -}}
{{ .image.repository }}:{{ .image.tag | default .ctx.Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* NATS ---------------------------------------------------------------------- */}}

{{/*
The official NATS chart's full name, by the rule of its nats.fullname helper
(fullnameOverride, else the release name if it contains the chart name, else
"<release>-nats"): its client Service and StatefulSet carry this name.
*/}}
{{- define "cellsweep.natsFullname" -}}
{{- $override := dig "fullnameOverride" "" .Values.nats }}
{{- if $override }}
{{- $override | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := dig "nameOverride" "" .Values.nats | default "nats" }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cellsweep.natsPort" -}}
{{- if .Values.nats.enabled }}
{{- dig "config" "nats" "port" 4222 .Values.nats }}
{{- else }}
{{- .Values.networkPolicy.natsPort }}
{{- end }}
{{- end }}

{{- define "cellsweep.natsUrl" -}}
{{- if .Values.nats.enabled -}}
nats://{{ include "cellsweep.natsFullname" . }}.{{ .Release.Namespace }}.svc:{{ include "cellsweep.natsPort" . }}
{{- else -}}
{{- required "externalNats.url is required when nats.enabled is false" .Values.externalNats.url -}}
{{- end -}}
{{- end }}

{{/* Pod labels of the official chart's NATS servers (its nats.selectorLabels). */}}
{{- define "cellsweep.natsServerLabels" -}}
app.kubernetes.io/name: {{ dig "nameOverride" "" .Values.nats | default "nats" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nats
{{- end }}

{{/*
NATS environment and mounts of one side: (dict "ctx" $ "side" "coordinator").
Each side reads only its own credential Secret.
*/}}
{{- define "cellsweep.natsEnv" -}}
{{- $v := .ctx.Values }}
{{- $auth := get $v.natsAuth .side -}}
- name: NATS_URL
  value: {{ include "cellsweep.natsUrl" .ctx | quote }}
{{- if eq $v.natsAuth.mode "password" }}
- name: NATS_USER
  value: {{ required (printf "natsAuth.%s.user is required with natsAuth.mode=password" .side) $auth.user | quote }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "natsAuth.%s.existingSecret is required" .side) $auth.existingSecret }}
      key: {{ $v.natsAuth.passwordKey }}
{{- else if eq $v.natsAuth.mode "creds" }}
- name: NATS_CREDS
  value: /var/run/secrets/cellsweep/nats-auth/{{ $v.natsAuth.credsKey }}
{{- else if eq $v.natsAuth.mode "nkey" }}
- name: NATS_NKEY
  value: /var/run/secrets/cellsweep/nats-auth/{{ $v.natsAuth.nkeyKey }}
{{- end }}
{{- if $v.natsTls.enabled }}
- name: NATS_TLS_CA
  value: /var/run/secrets/cellsweep/nats-tls-ca/{{ $v.natsTls.caKey }}
{{- if $v.natsTls.clientCertSecret }}
- name: NATS_TLS_CERT
  value: /var/run/secrets/cellsweep/nats-tls-client/tls.crt
- name: NATS_TLS_KEY
  value: /var/run/secrets/cellsweep/nats-tls-client/tls.key
{{- end }}
{{- end }}
{{- end }}

{{- define "cellsweep.natsVolumeMounts" -}}
{{- $v := .ctx.Values -}}
{{- if has $v.natsAuth.mode (list "creds" "nkey") }}
- name: nats-auth
  mountPath: /var/run/secrets/cellsweep/nats-auth
  readOnly: true
{{- end }}
{{- if $v.natsTls.enabled }}
- name: nats-tls-ca
  mountPath: /var/run/secrets/cellsweep/nats-tls-ca
  readOnly: true
{{- if $v.natsTls.clientCertSecret }}
- name: nats-tls-client
  mountPath: /var/run/secrets/cellsweep/nats-tls-client
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "cellsweep.natsVolumes" -}}
{{- $v := .ctx.Values }}
{{- $auth := get $v.natsAuth .side -}}
{{- if has $v.natsAuth.mode (list "creds" "nkey") }}
- name: nats-auth
  secret:
    secretName: {{ required (printf "natsAuth.%s.existingSecret is required" .side) $auth.existingSecret }}
    defaultMode: 288 {{- /* 0440: readable by the pod's fsGroup */}}
    items:
      - key: {{ eq $v.natsAuth.mode "creds" | ternary $v.natsAuth.credsKey $v.natsAuth.nkeyKey }}
        path: {{ eq $v.natsAuth.mode "creds" | ternary $v.natsAuth.credsKey $v.natsAuth.nkeyKey }}
{{- end }}
{{- if $v.natsTls.enabled }}
- name: nats-tls-ca
  secret:
    secretName: {{ required "natsTls.caSecret is required with natsTls.enabled" $v.natsTls.caSecret }}
    defaultMode: 288
    items:
      - key: {{ $v.natsTls.caKey }}
        path: {{ $v.natsTls.caKey }}
{{- if $v.natsTls.clientCertSecret }}
- name: nats-tls-client
  secret:
    secretName: {{ $v.natsTls.clientCertSecret }}
    defaultMode: 288
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes every cellsweep pod has: /tmp and the datasets. */}}
{{- define "cellsweep.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.data.existingClaim }}
- name: data
  persistentVolumeClaim:
    claimName: {{ .Values.data.existingClaim }}
    readOnly: true
{{- end }}
{{- end }}

{{- define "cellsweep.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.data.existingClaim }}
- name: data
  mountPath: /data
  readOnly: true
  {{- with .Values.data.subPath }}
  subPath: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{- define "cellsweep.tokenSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-token" (include "cellsweep.fullname" .)) }}
{{- end }}

{{- define "cellsweep.tokenSecretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}token{{ end }}
{{- end }}

{{/*
The probes both components answer on their metrics port: /healthz (the process
serves) and /readyz (connected to NATS). Timings from <component>.probes.
Call with (dict "ctx" $ "probes" .Values.trainer.probes).
*/}}
{{- define "cellsweep.probes" -}}
{{- range $kind, $path := dict "startup" "/healthz" "readiness" "/readyz" "liveness" "/healthz" }}
{{ $kind }}Probe:
  httpGet:
    path: {{ $path }}
    port: metrics
  {{- toYaml (get $.probes $kind) | nindent 2 }}
{{- end }}
{{- end }}
