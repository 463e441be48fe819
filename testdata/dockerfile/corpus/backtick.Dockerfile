# escape=`
ARG BASE=mcr.microsoft.com/windows/servercore:ltsc2022
FROM ${BASE} AS build
RUN powershell -Command `
    Write-Host 'FROM nothing:here'
COPY C:\src C:\app
FROM python:3.12-windowsservercore-ltsc2022 `
  AS final
COPY --from=build C:\app C:\app
