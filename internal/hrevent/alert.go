package hrevent

import (
	"fmt"
	"time"
)

// AlertType is the CloudEvents type of the mass-offboarding guard's alert.
const AlertType = "hr.operator.guard"

// GuardAlert is the data of the alert an organization's mass-offboarding
// guard sends when it trips.
type GuardAlert struct {
	OrganizationID int    `json:"organizationId"`
	Held           int    `json:"held"`
	Threshold      int    `json:"threshold"`
	GuardThreshold string `json:"guardThreshold"`
	Window         string `json:"window"`
	Since          string `json:"since"`
	// EmployeeIDs are the first 100 held.
	EmployeeIDs []string `json:"employeeIds"`
	// Gen numbers the organization's trips; it makes the alert's id.
	Gen uint64 `json:"-"`
}

// Subject is where the alert goes: hr.alerts.guard.<organizationId>.
func (a *GuardAlert) Subject() string { return fmt.Sprintf("hr.alerts.guard.%d", a.OrganizationID) }

// ID identifies the alert, so that one trip sends one alert whoever
// publishes it.
func (a *GuardAlert) ID() string { return fmt.Sprintf("guard:%d:%d", a.OrganizationID, a.Gen) }

// Marshal encodes the alert as a CloudEvents 1.0 event.
func (a *GuardAlert) Marshal(now time.Time) ([]byte, error) {
	return marshalEvent(a.ID(), AlertType, fmt.Sprint(a.OrganizationID), "", now, a)
}
