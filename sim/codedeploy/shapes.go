package codedeploy

import "time"

type cdOverviewJSON struct {
	Pending    int64 `json:"Pending"`
	InProgress int64 `json:"InProgress"`
	Succeeded  int64 `json:"Succeeded"`
	Failed     int64 `json:"Failed"`
	Skipped    int64 `json:"Skipped"`
	Ready      int64 `json:"Ready"`
}

type cdErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type cdRollbackJSON struct {
	RollbackDeploymentId           string `json:"rollbackDeploymentId,omitempty"`
	RollbackTriggeringDeploymentId string `json:"rollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage                string `json:"rollbackMessage,omitempty"`
}

type cdAutoRollbackJSON struct {
	Enabled bool     `json:"enabled"`
	Events  []string `json:"events"`
}

type cdStyleJSON struct {
	DeploymentType   string `json:"deploymentType"`
	DeploymentOption string `json:"deploymentOption"`
}

type cdBlueGreenJSON struct {
	TerminateBlueInstancesOnDeploymentSuccess *struct {
		Action                       string `json:"action"`
		TerminationWaitTimeInMinutes int    `json:"terminationWaitTimeInMinutes"`
	} `json:"terminateBlueInstancesOnDeploymentSuccess,omitempty"`
	DeploymentReadyOption *struct {
		ActionOnTimeout   string `json:"actionOnTimeout"`
		WaitTimeInMinutes int    `json:"waitTimeInMinutes"`
	} `json:"deploymentReadyOption,omitempty"`
}

type cdName struct {
	Name string `json:"name"`
}

type cdLBInfoJSON struct {
	TargetGroupPairInfoList []struct {
		TargetGroups     []cdName `json:"targetGroups"`
		ProdTrafficRoute struct {
			ListenerArns []string `json:"listenerArns"`
		} `json:"prodTrafficRoute"`
	} `json:"targetGroupPairInfoList"`
}

type cdDeploymentJSON struct {
	ApplicationName                    string             `json:"applicationName"`
	DeploymentGroupName                string             `json:"deploymentGroupName"`
	DeploymentConfigName               string             `json:"deploymentConfigName"`
	DeploymentId                       string             `json:"deploymentId"`
	Status                             string             `json:"status"`
	ErrorInformation                   *cdErrorJSON       `json:"errorInformation,omitempty"`
	CreateTime                         *float64           `json:"createTime,omitempty"`
	StartTime                          *float64           `json:"startTime,omitempty"`
	CompleteTime                       *float64           `json:"completeTime,omitempty"`
	DeploymentOverview                 cdOverviewJSON     `json:"deploymentOverview"`
	Description                        string             `json:"description,omitempty"`
	Creator                            string             `json:"creator"`
	IgnoreApplicationStopFailures      bool               `json:"ignoreApplicationStopFailures"`
	AutoRollbackConfiguration          cdAutoRollbackJSON `json:"autoRollbackConfiguration"`
	UpdateOutdatedInstancesOnly        bool               `json:"updateOutdatedInstancesOnly"`
	RollbackInfo                       *cdRollbackJSON    `json:"rollbackInfo,omitempty"`
	DeploymentStyle                    cdStyleJSON        `json:"deploymentStyle"`
	BlueGreenDeploymentConfiguration   *cdBlueGreenJSON   `json:"blueGreenDeploymentConfiguration,omitempty"`
	LoadBalancerInfo                   *cdLBInfoJSON      `json:"loadBalancerInfo,omitempty"`
	InstanceTerminationWaitTimeStarted bool               `json:"instanceTerminationWaitTimeStarted"`
	ComputePlatform                    string             `json:"computePlatform"`
	DeploymentStatusMessages           []string           `json:"deploymentStatusMessages"`
}

func (g *cdGroup) style() cdStyleJSON {
	if g.platform == cdServer {
		return cdStyleJSON{DeploymentType: "IN_PLACE", DeploymentOption: "WITHOUT_TRAFFIC_CONTROL"}
	}
	return cdStyleJSON{DeploymentType: "BLUE_GREEN", DeploymentOption: "WITH_TRAFFIC_CONTROL"}
}

func (g *cdGroup) blueGreen() *cdBlueGreenJSON {
	if g.platform != cdECS {
		return nil
	}
	bg := &cdBlueGreenJSON{}
	bg.TerminateBlueInstancesOnDeploymentSuccess = &struct {
		Action                       string `json:"action"`
		TerminationWaitTimeInMinutes int    `json:"terminationWaitTimeInMinutes"`
	}{"TERMINATE", int(g.terminationWait / time.Minute)}
	action := "CONTINUE_DEPLOYMENT"
	if g.readyWait > 0 {
		action = "STOP_DEPLOYMENT"
	}
	bg.DeploymentReadyOption = &struct {
		ActionOnTimeout   string `json:"actionOnTimeout"`
		WaitTimeInMinutes int    `json:"waitTimeInMinutes"`
	}{action, int(g.readyWait / time.Minute)}
	return bg
}

func (g *cdGroup) lbInfo() *cdLBInfoJSON {
	if g.platform != cdECS {
		return nil
	}
	info := &cdLBInfoJSON{}
	info.TargetGroupPairInfoList = make([]struct {
		TargetGroups     []cdName `json:"targetGroups"`
		ProdTrafficRoute struct {
			ListenerArns []string `json:"listenerArns"`
		} `json:"prodTrafficRoute"`
	}, 1)
	info.TargetGroupPairInfoList[0].TargetGroups = []cdName{{g.tgs[0].name}, {g.tgs[1].name}}
	info.TargetGroupPairInfoList[0].ProdTrafficRoute.ListenerArns = []string{g.listenerARN}
	return info
}

func (d *cdDeployment) info() cdDeploymentJSON {
	g := d.group
	cfg := ""
	if d.config != nil {
		cfg = d.config.name
	}
	out := cdDeploymentJSON{
		ApplicationName: g.app.name, DeploymentGroupName: g.name, DeploymentConfigName: cfg,
		DeploymentId: d.id, Status: d.status, CreateTime: cdEpoch(d.created), StartTime: cdEpoch(d.started),
		CompleteTime: cdEpoch(d.completed), Description: d.description, Creator: d.creator,
		AutoRollbackConfiguration: cdAutoRollbackJSON{Enabled: d.autoRollback, Events: nonNilStrings(d.rollbackEvents)},
		DeploymentStyle:           g.style(), BlueGreenDeploymentConfiguration: g.blueGreen(), LoadBalancerInfo: g.lbInfo(),
		InstanceTerminationWaitTimeStarted: d.termWaitStarted, ComputePlatform: g.platform,
		DeploymentStatusMessages: []string{},
	}
	if d.errCode != "" {
		out.ErrorInformation = &cdErrorJSON{Code: d.errCode, Message: d.errMessage}
	}
	if d.rollbackID != "" || d.rollbackOf != "" {
		out.RollbackInfo = &cdRollbackJSON{RollbackDeploymentId: d.rollbackID, RollbackTriggeringDeploymentId: d.rollbackOf, RollbackMessage: d.rollbackMsg}
	}
	n := int64(1)
	if g.platform == cdServer {
		n = int64(len(g.instances))
	}
	switch d.status {
	case cdInProgress:
		out.DeploymentOverview.InProgress = n
	case cdReady:
		out.DeploymentOverview.Ready = n
	case cdSucceeded:
		out.DeploymentOverview.Succeeded = n
	case cdFailed, cdStopped:
		out.DeploymentOverview.Failed = n
	default:
		out.DeploymentOverview.Pending = n
	}
	return out
}
