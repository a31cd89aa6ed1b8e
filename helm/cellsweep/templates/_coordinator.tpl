{{/*
The coordinator's pod template, shared by the Deployment (coordinator.mode=service)
and the batch Job (coordinator.mode=batch).
*/}}
{{- define "cellsweep.coordinator.podTemplate" -}}
{{- $v := .Values }}
{{- $c := $v.coordinator }}
{{- $batch := eq $c.mode "batch" -}}
metadata:
  labels:
    {{- include "cellsweep.labels" (dict "ctx" . "component" "coordinator") | nindent 4 }}
    {{- with $c.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or $c.podAnnotations $batch }}
  annotations:
    {{- with $c.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- if $batch }}
    checksum/sweep: {{ $v.batch.sweep | sha256sum }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ include "cellsweep.serviceAccountName" . }}
  # Nothing in cellsweep talks to the Kubernetes API.
  automountServiceAccountToken: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- if $batch }}
  # A failed pod is kept for its logs; the Job's backoffLimit starts another,
  # which resumes the sweep from its journal.
  restartPolicy: Never
  {{- end }}
  containers:
    - name: coordinator
      image: {{ include "cellsweep.image" (dict "ctx" . "image" $v.image.coordinator) }}
      imagePullPolicy: {{ $v.image.coordinator.pullPolicy }}
      args:
        - coordinator
        - --nats
        - {{ include "cellsweep.natsUrl" . | quote }}
        - --listen
        - 0.0.0.0:{{ $c.grpcPort }}
        - --metrics-listen
        - 0.0.0.0:{{ $c.metricsPort }}
        - --data-root
        - /data
        - --ack-wait
        - {{ $c.ackWaitSeconds | quote }}
        - --max-deliveries
        - {{ $c.maxDeliveries | quote }}
        - --parallel
        - {{ $c.parallel | quote }}
        {{- if $v.auth.enabled }}
        - --token-file
        - /var/run/secrets/cellsweep/token/token
        {{- else }}
        - --no-auth
        {{- end }}
        {{- if $c.tls.enabled }}
        - --tls-cert
        - /var/run/secrets/cellsweep/grpc-tls/tls.crt
        - --tls-key
        - /var/run/secrets/cellsweep/grpc-tls/tls.key
        {{- if $c.tls.clientCA.enabled }}
        - --tls-client-ca
        - /var/run/secrets/cellsweep/grpc-client-ca/{{ $c.tls.clientCA.key }}
        {{- end }}
        {{- end }}
        {{- if $batch }}
        - --batch
        - /etc/cellsweep/sweep.yaml
        {{- end }}
        {{- with $c.extraArgs }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        {{- include "cellsweep.natsEnv" (dict "ctx" . "side" "coordinator") | nindent 8 }}
        {{- with $c.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: grpc
          containerPort: {{ $c.grpcPort }}
          protocol: TCP
        - name: metrics
          containerPort: {{ $c.metricsPort }}
          protocol: TCP
      {{- /* HTTP probes on the metrics port rather than a grpc probe: the kubelet's
             grpc probe cannot speak TLS, and the metrics port is plain HTTP either way. */}}
      {{- include "cellsweep.probes" (dict "ctx" . "probes" $c.probes) | trim | nindent 6 }}
      resources:
        {{- toYaml $c.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        {{- include "cellsweep.commonVolumeMounts" . | nindent 8 }}
        {{- with include "cellsweep.natsVolumeMounts" (dict "ctx" . "side" "coordinator") }}{{ . | trim | nindent 8 }}{{- end }}
        {{- if $v.auth.enabled }}
        - name: token
          mountPath: /var/run/secrets/cellsweep/token
          readOnly: true
        {{- end }}
        {{- if $c.tls.enabled }}
        - name: grpc-tls
          mountPath: /var/run/secrets/cellsweep/grpc-tls
          readOnly: true
        {{- if $c.tls.clientCA.enabled }}
        - name: grpc-client-ca
          mountPath: /var/run/secrets/cellsweep/grpc-client-ca
          readOnly: true
        {{- end }}
        {{- end }}
        {{- if $batch }}
        - name: sweep
          mountPath: /etc/cellsweep
          readOnly: true
        {{- end }}
  volumes:
    {{- include "cellsweep.commonVolumes" . | nindent 4 }}
    {{- with include "cellsweep.natsVolumes" (dict "ctx" . "side" "coordinator") }}{{ . | trim | nindent 4 }}{{- end }}
    {{- if $v.auth.enabled }}
    - name: token
      secret:
        secretName: {{ include "cellsweep.tokenSecretName" . }}
        defaultMode: 288
        items:
          - key: {{ include "cellsweep.tokenSecretKey" . }}
            path: token
    {{- end }}
    {{- if $c.tls.enabled }}
    - name: grpc-tls
      secret:
        secretName: {{ required "coordinator.tls.secretName is required with coordinator.tls.enabled" $c.tls.secretName }}
        defaultMode: 288
        items:
          - key: tls.crt
            path: tls.crt
          - key: tls.key
            path: tls.key
    {{- if $c.tls.clientCA.enabled }}
    - name: grpc-client-ca
      secret:
        secretName: {{ required "coordinator.tls.clientCA.secretName is required with coordinator.tls.clientCA.enabled" $c.tls.clientCA.secretName }}
        defaultMode: 288
        items:
          - key: {{ $c.tls.clientCA.key }}
            path: {{ $c.tls.clientCA.key }}
    {{- end }}
    {{- end }}
    {{- if $batch }}
    - name: sweep
      configMap:
        name: {{ include "cellsweep.fullname" . }}-sweep
    {{- end }}
  {{- with $c.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
