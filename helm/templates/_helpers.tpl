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
{{- default (printf "%s-secret" (include "soma.fullname" .)) .Values.secret.existingSecret -}}
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
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
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
