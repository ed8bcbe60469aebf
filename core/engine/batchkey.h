#pragma once

#include "core/engine/inferencerequest.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

// The batch key (DESIGN.md §6): model + operation + a hash of everything that
// must be equal for two requests to share one upstream call (generation
// config, system instruction, tools, tool config, safety settings, cached
// content). Only requests with equal keys are ever batched together.
//
// Thread: pure functions, thread-safe.
namespace BatchKey {

// Accepts both lowerCamel and snake_case spellings of the compatibility fields.
QByteArray compute(const QString &model, Operation op, const QJsonObject &body);

} // namespace BatchKey
