{{- define "soma.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "soma.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Standard labels; pass (dict "root" $ "component" "api"). */}}
{{- define "soma.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "soma.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: somafractalmemory
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "soma.selectorLabels" -}}
app.kubernetes.io/name: {{ include "soma.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "soma.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "soma.secretName" -}}
{{- .Values.secret.existingSecret | default .Values.secret.name | default (printf "%s-secret" (include "soma.fullname" .)) -}}
{{- end -}}

{{/* In-cluster service names of the full stack's infrastructure. */}}
{{- define "soma.postgresHost" -}}{{ include "soma.fullname" . }}-postgres{{- end -}}
{{- define "soma.redisHost" -}}{{ include "soma.fullname" . }}-redis{{- end -}}
{{- define "soma.qdrantHost" -}}{{ include "soma.fullname" . }}-qdrant{{- end -}}
{{- define "soma.kafkaHost" -}}{{ include "soma.fullname" . }}-kafka{{- end -}}

{{/* Environment shared by the API, the consumer and the migration job. */}}
{{- define "soma.envFrom" -}}
- configMapRef:
    name: {{ include "soma.fullname" . }}-config
- secretRef:
    name: {{ include "soma.secretName" . }}
{{- end -}}

{{- define "soma.podSecurity" -}}
{{- $context := .Values.podSecurityContext | default dict -}}
{{- if ne (toString (get $context "enabled")) "false" }}
securityContext:
  {{- toYaml (omit $context "enabled") | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "soma.tmpVolume" -}}
- name: tmp
  emptyDir: {}
- name: data
  emptyDir: {}
{{- end -}}

{{- define "soma.tmpMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- end -}}

{{- /*
The original chart's keys, read as aliases of this chart's (the original's values files install
unchanged). Each helper answers with the original's key when it is set, else this chart's.
*/ -}}
{{- define "soma.apiReplicas" -}}
{{- if hasKey .Values "replicaCount" }}{{ .Values.replicaCount }}{{ else }}{{ .Values.api.replicas }}{{ end -}}
{{- end -}}

{{- define "soma.apiResources" -}}
{{- toYaml (hasKey .Values "resources" | ternary .Values.resources .Values.api.resources) -}}
{{- end -}}

{{- define "soma.consumerReplicas" -}}
{{- if hasKey .Values.consumer "replicaCount" }}{{ .Values.consumer.replicaCount }}{{ else }}{{ .Values.consumer.replicas }}{{ end -}}
{{- end -}}

{{- define "soma.consumerMetricsPort" -}}
{{- if and .Values.consumer.metrics .Values.consumer.metrics.port }}{{ .Values.consumer.metrics.port }}{{ else }}{{ .Values.consumer.metricsPort }}{{ end -}}
{{- end -}}

{{- define "soma.consumerImage" -}}
{{- $image := mergeOverwrite (deepCopy .Values.image) (.Values.consumer.image | default dict) -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}

{{- define "soma.consumerPullPolicy" -}}
{{- (.Values.consumer.image | default dict).pullPolicy | default .Values.image.pullPolicy -}}
{{- end -}}

{{/* The original wrapped its contexts in an `enabled` switch, which is not a pod spec field. */}}
{{- define "soma.containerSecurity" -}}
{{- $context := .Values.containerSecurityContext | default .Values.securityContext | default dict -}}
{{- if ne (toString (get $context "enabled")) "false" }}{{ toYaml (omit $context "enabled") }}{{ end -}}
{{- end -}}

{{- define "soma.persistence" -}}
{{- $persistence := .spec.persistence | default dict -}}
{{- if eq (toString (get $persistence "enabled")) "false" }}false{{ else }}true{{ end -}}
{{- end -}}

{{/* Features of the original chart this one does not ship: accepted while disabled, refused by name when enabled. */}}
{{- define "soma.refuseOriginalFeatures" -}}
{{- $refused := dict
  "externalSecret.enabled" (list (dig "externalSecret" "enabled" false .Values.AsMap) "point secret.existingSecret at the Secret your ExternalSecret creates")
  "secret.enabled=false" (list (eq (toString (dig "secret" "enabled" true .Values.AsMap)) "false") "set secret.existingSecret to the Secret holding SOMA_API_TOKEN and POSTGRES_URL")
  "secret.rolloutRestart.enabled" (list (dig "secret" "rolloutRestart" "enabled" false .Values.AsMap) "restart with kubectl rollout restart after changing the Secret (ConfigMap changes restart the pods by themselves)")
  "hpa.consumer.enabled" (list (dig "hpa" "consumer" "enabled" false .Values.AsMap) "scale the consumer with consumer.replicas up to the topic's partition count")
  "prometheusRule.enabled" (list (dig "prometheusRule" "enabled" false .Values.AsMap) "the original's metric names are served, so apply its alert rules as a PrometheusRule of your own")
  "backup.postgres.enabled" (list (dig "backup" "postgres" "enabled" false .Values.AsMap) "back up PostgreSQL with your database operator or pg_dump")
  "backup.qdrant.enabled" (list (dig "backup" "qdrant" "enabled" false .Values.AsMap) "use Qdrant's snapshot API")
  "restore.postgres.enabled" (list (dig "restore" "postgres" "enabled" false .Values.AsMap) "restore with your database operator or pg_restore")
  "restore.qdrant.enabled" (list (dig "restore" "qdrant" "enabled" false .Values.AsMap) "restore a Qdrant snapshot, or run soma reindex")
  "tls.mounts" (list (gt (len (dig "tls" "mounts" list .Values.AsMap)) 0) "give CA files by URL settings (POSTGRES_URL sslrootcert, KAFKA_SSL_CA_LOCATION) from a Secret you mount")
  "networkPolicy.ingress/egress" (list (and .Values.networkPolicy.enabled (or (dig "networkPolicy" "ingress" list .Values.AsMap) (dig "networkPolicy" "egress" list .Values.AsMap))) "this chart writes its own policies with networkPolicy.enabled")
-}}
{{- range $key, $entry := $refused }}
{{- if first $entry }}{{ fail (printf "%s is not supported by this chart: %s" $key (last $entry)) }}{{ end }}
{{- end }}
{{- end -}}

{{/* The original's keys in use, each with the key that replaces it: NOTES.txt lists them. */}}
{{- define "soma.deprecatedKeys" -}}
{{- $v := .Values.AsMap -}}
{{- $aliases := list
  (list (hasKey $v "replicaCount") "replicaCount" "api.replicas")
  (list (hasKey $v "resources") "resources" "api.resources")
  (list (hasKey $v "containerSecurityContext") "containerSecurityContext" "securityContext")
  (list (hasKey .Values.podSecurityContext "enabled") "podSecurityContext.enabled" "podSecurityContext (set it to {} to leave it out)")
  (list (hasKey .Values.consumer "replicaCount") "consumer.replicaCount" "consumer.replicas")
  (list (hasKey .Values.consumer "metrics") "consumer.metrics.port" "consumer.metricsPort")
  (list (hasKey .Values.consumer "secretKeys") "consumer.secretKeys" "nothing: every pod reads the whole Secret")
  (list (hasKey $v "redpanda") "redpanda" "kafka (redpanda.image is not used: the chart runs kafka.image)")
  (list (hasKey $v "hpa") "hpa.api" "autoscaling")
  (list (hasKey $v "probe") "probe" "the chart's own probes (probe.path and timings are still applied to the API's liveness probe)")
  (list (hasKey .Values.postgres "username") "postgres.username" "postgres.user")
  (list (hasKey .Values.serviceMonitor "api") "serviceMonitor.api / serviceMonitor.consumer" "serviceMonitor.enabled and serviceMonitor.interval")
  (list (hasKey .Values.ingress "host") "ingress.host / ingress.tlsSecretName" "ingress.hosts and ingress.tls")
  (list (hasKey $v "clusterName") "clusterName" "nothing: not used")
-}}
{{- range $aliases }}
{{- if index . 0 }}
  - {{ index . 1 }}: use {{ index . 2 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Kafka in the full stack: kafka.enabled, or the original's redpanda.enabled. */}}
{{- define "soma.kafkaEnabled" -}}
{{- if or .Values.kafka.enabled (dig "redpanda" "enabled" false .Values.AsMap) }}true{{ end -}}
{{- end -}}
